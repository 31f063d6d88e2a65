import DataTree
public import KubeModel

/// The forms a policy-check report is printed in: text for people, JSON for tools, and GitHub
/// Actions workflow commands (`::error file=…,line=…::…`), which put each denial on the
/// pull request's diff at the policy that refuses it.
///
/// Deterministic: the report is sorted and every list below follows its order.
public struct PolicyCheckFormat: Sendable {
    public var report: PolicyCheck.Report
    public var evaluator: PolicyEvaluator
    /// Where each of the evaluator's policies was read from (same order), when known.
    public var sources: [SourceLocation?]
    /// The allow list's file, for locations of its entries.
    public var allowListFile: String?

    public init(report: PolicyCheck.Report, evaluator: PolicyEvaluator, sources: [SourceLocation?], allowListFile: String? = nil) {
        self.report = report
        self.evaluator = evaluator
        self.sources = sources
        self.allowListFile = allowListFile
    }

    func policyName(_ index: Int) -> String {
        let (namespace, name) = evaluator.name(of: index)
        let source = index < sources.count ? sources[index] : nil
        return "\(namespace)/\(name)" + (source.map { " (\($0))" } ?? "")
    }

    /// The namespace whose policies refuse the connection: the server's when its ingress does.
    static func deciding(_ finding: PolicyCheck.Finding) -> String {
        let end = finding.deniedBy.contains(.ingress) ? finding.edge.server : finding.edge.client
        if case .workload(let workload) = end { return workload.namespace }
        return ""
    }

    public var summary: String {
        "\(report.denied.count) of \(report.edges) observed edge(s) (\(report.connections) connection(s)) would be denied" +
            (report.accepted.isEmpty ? "" : "; \(report.accepted.count) more accepted by the allow list") +
            (report.unresolved.isEmpty ? "" : "; \(report.unresolved.count) to a Service without known backends not judged")
    }

    func reason(_ finding: PolicyCheck.Finding) -> String {
        finding.deniedBy.map { direction in
            direction == .ingress ? "ingress of \(finding.edge.server)" : "egress of \(finding.edge.client)"
        }.joined(separator: " and ")
    }

    func inForce(_ indices: [Int]) -> String {
        indices.isEmpty ? "none (open)" : indices.map(policyName).joined(separator: ", ")
    }

    public var text: String {
        var lines = ["netwatch policy check: \(summary)"]
        var byNamespace: [String: [PolicyCheck.Finding]] = [:]
        for finding in report.denied { byNamespace[Self.deciding(finding), default: []].append(finding) }
        for namespace in byNamespace.keys.sorted() {
            lines.append("")
            lines.append(namespace.isEmpty ? "outside any namespace" : "namespace \(namespace)")
            for finding in byNamespace[namespace]! {
                lines.append("  DENIED \(finding.edge.summary): refused by \(reason(finding))")
                lines.append("    ingress policies on the server: \(inForce(finding.ingressPolicies))")
                lines.append("    egress policies on the client: \(inForce(finding.egressPolicies))")
                if finding.port == nil, case .string(let name) = finding.edge.port {
                    lines.append("    no pod of the server declares a port named \(name)")
                }
                lines.append("    observed: \(finding.edge.flows) flow(s), \(finding.connections) connection(s) to a pod denied, \(Timestamp.format(milliseconds: finding.edge.firstSeen)) to \(Timestamp.format(milliseconds: finding.edge.lastSeen))")
            }
        }
        if !report.accepted.isEmpty {
            lines.append("")
            lines.append("accepted by the allow list")
            for finding in report.accepted {
                lines.append("  \(finding.edge.summary): refused by \(reason(finding)); allow-list line \(finding.acceptedBy!.line)")
            }
        }
        if !report.unresolved.isEmpty {
            lines.append("")
            lines.append("not judged (a Service the input does not resolve to pods or workloads: add its manifest)")
            for edge in report.unresolved { lines.append("  \(edge.summary)") }
        }
        if !report.unusedAllowEntries.isEmpty {
            lines.append("")
            lines.append("allow-list entries that accept nothing (the connection is allowed now, or gone): remove them")
            for entry in report.unusedAllowEntries { lines.append("  line \(entry.line): \(entry.text)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func peer(_ peer: Peer) -> Node {
        switch peer {
        case .workload(let workload): ["kind": .string(workload.kind), "namespace": .string(workload.namespace), "name": .string(workload.name)]
        case .service(let namespace, let name): ["kind": "Service", "namespace": .string(namespace), "name": .string(name)]
        case .node(let name, let address): ["kind": "Node", "name": .string(name), "address": .string(address.description)]
        case .apiServer(let address): ["kind": "APIServer", "address": .string(address.description)]
        case .external(let address): ["kind": "World", "address": .string(address.description)]
        }
    }

    func policies(_ indices: [Int]) -> Node {
        .sequence(indices.map { index in
            let (namespace, name) = evaluator.name(of: index)
            var entry = Mapping()
            entry["namespace"] = .string(namespace)
            entry["name"] = .string(name)
            if index < sources.count, let source = sources[index] {
                entry["file"] = .string(source.file)
                entry["line"] = .int(source.line)
            }
            return .mapping(entry)
        })
    }

    static func edge(_ edge: ResolvedEdge) -> Mapping {
        var entry = Mapping()
        entry["client"] = peer(edge.client)
        entry["server"] = peer(edge.server)
        switch edge.port {
        case .int(let number): entry["port"] = .int(number)
        case .string(let name): entry["portName"] = .string(name)
        }
        entry["protocol"] = .string(edge.transport.rawValue)
        entry["flows"] = .int(edge.flows)
        entry["firstSeen"] = .string(Timestamp.format(milliseconds: edge.firstSeen))
        entry["lastSeen"] = .string(Timestamp.format(milliseconds: edge.lastSeen))
        return entry
    }

    func finding(_ finding: PolicyCheck.Finding) -> Node {
        var entry = Self.edge(finding.edge)
        if let port = finding.port, case .string = finding.edge.port { entry["port"] = .int(port) }
        entry["deniedConnections"] = .int(finding.connections)
        entry["deniedBy"] = .sequence(finding.deniedBy.map { .string($0.rawValue) })
        entry["ingressPolicies"] = policies(finding.ingressPolicies)
        entry["egressPolicies"] = policies(finding.egressPolicies)
        if let accepted = finding.acceptedBy { entry["allowListLine"] = .int(accepted.line) }
        return .mapping(entry)
    }

    public var json: [UInt8] {
        let document: Node = [
            "summary": ["connections": .int(report.connections), "edges": .int(report.edges), "denied": .int(report.denied.count), "accepted": .int(report.accepted.count),
                        "unresolved": .int(report.unresolved.count)],
            "denied": .sequence(report.denied.map(finding)),
            "accepted": .sequence(report.accepted.map(finding)),
            "unresolved": .sequence(report.unresolved.map { .mapping(Self.edge($0)) }),
            "unusedAllowEntries": .sequence(report.unusedAllowEntries.map { ["line": .int($0.line), "text": .string($0.text)] }),
        ]
        var bytes = JSONEmitter(style: .pretty).emit(document)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        return bytes
    }

    /// GitHub Actions workflow commands: an error per denial at the first policy refusing it,
    /// a warning per unused allow-list entry, and a notice with the summary.
    public var githubAnnotations: String {
        var lines: [String] = []
        for finding in report.denied {
            let deciding = finding.deniedBy.contains(.ingress) ? finding.ingressPolicies : finding.egressPolicies
            let location = deciding.lazy.compactMap { $0 < self.sources.count ? self.sources[$0] : nil }.first
            var properties = location.map { ["file=\(Self.escapeProperty($0.file))", "line=\($0.line)"] } ?? []
            properties.append("title=\(Self.escapeProperty("NetworkPolicy would deny an observed connection"))")
            let message = "\(finding.edge.summary) is refused by \(reason(finding)). Ingress policies on the server: \(inForce(finding.ingressPolicies)). " +
                "Egress policies on the client: \(inForce(finding.egressPolicies)). Observed \(finding.edge.flows) flow(s), last at \(Timestamp.format(milliseconds: finding.edge.lastSeen))."
            lines.append("::error \(properties.joined(separator: ","))::\(Self.escapeData(message))")
        }
        for entry in report.unusedAllowEntries {
            let file = allowListFile.map { "file=\(Self.escapeProperty($0)),line=\(entry.line)," } ?? ""
            lines.append("::warning \(file)title=\(Self.escapeProperty("Unused allow-list entry"))::\(Self.escapeData("\(entry.text) accepts nothing; remove it"))")
        }
        lines.append("::notice title=\(Self.escapeProperty("netwatch policy check"))::\(Self.escapeData(summary))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Escaping of GitHub's workflow-command format (actions/toolkit's command.ts).
    static func escapeData(_ text: String) -> String {
        text.replacingAll("%", "%25").replacingAll("\r", "%0D").replacingAll("\n", "%0A")
    }

    static func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingAll(":", "%3A").replacingAll(",", "%2C")
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, _ replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}
