import KubeModel

/// The observed service graph as Graphviz DOT: workloads grouped by namespace (one cluster
/// each), outside peers on their own, edges labelled with port/protocol and flows per minute
/// over the observation; edges that `denied` says a policy would deny are drawn red and dashed.
///
/// Deterministic: nodes, clusters and edges are sorted, identifiers derived from names.
public enum ServiceGraph {
    public static func dot(_ edges: [ResolvedEdge], windowMinutes: Double, denied: (ResolvedEdge) -> Bool = { _ in false }) -> String {
        dot(edges, windowMinutes: windowMinutes) { denied($0) ? ", color=red, fontcolor=red, style=dashed" : "" }
    }

    /// The graph with `attributes(edge)` (Graphviz edge attributes, each with a leading ", ")
    /// added to each edge's label.
    public static func dot(_ edges: [ResolvedEdge], windowMinutes: Double, attributes extra: (ResolvedEdge) -> String) -> String {
        var namespaces: [String: Set<WorkloadReference>] = [:]
        var others: Set<String> = []
        func name(_ peer: Peer) -> String {
            switch peer {
            case .workload(let workload):
                namespaces[workload.namespace, default: []].insert(workload)
                return "\(workload.namespace)/\(workload.kind)/\(workload.name)"
            case .service(let namespace, let service): others.insert("service \(namespace)/\(service)"); return "service \(namespace)/\(service)"
            case .node(let node, let address):
                let label = node.isEmpty ? "node \(address)" : "node \(node)"
                others.insert(label)
                return label
            case .apiServer: others.insert("kube-apiserver"); return "kube-apiserver"
            case .external(let address): others.insert("\(address)"); return "\(address)"
            }
        }
        var lines: [String] = []
        for edge in edges.sorted() {
            let from = name(edge.client), to = name(edge.server)
            let port: String = switch edge.port {
            case .int(let number): String(number)
            case .string(let named): named
            }
            let rate = windowMinutes > 0 ? Double(edge.flows) / windowMinutes : Double(edge.flows)
            var attributes = "label=\(quote("\(port)/\(edge.transport.rawValue)\n\(format(rate))/min"))"
            attributes += extra(edge)
            lines.append("  \(quote(from)) -> \(quote(to)) [\(attributes)];")
        }
        var out = "digraph netwatch {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=Helvetica];\n  edge [fontname=Helvetica, fontsize=10];\n"
        for (index, namespace) in namespaces.keys.sorted().enumerated() {
            out += "  subgraph cluster_\(index) {\n    label=\(quote("namespace \(namespace)"));\n"
            for workload in (namespaces[namespace] ?? []).sorted() {
                out += "    \(quote("\(workload.namespace)/\(workload.kind)/\(workload.name)")) [label=\(quote("\(workload.name)\n\(workload.kind)"))];\n"
            }
            out += "  }\n"
        }
        for other in others.sorted() { out += "  \(quote(other)) [shape=ellipse];\n" }
        return out + lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n") + "}\n"
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out + "\""
    }

    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
