import KubeModel

/// The reference page of a resource kind (docs/resources/<kind>.md), generated from the same
/// schema the CRD and `netwatch validate` use, so every field is listed with its type,
/// allowed values and description, and the page cannot drift from what is accepted.
public enum ResourceReference {
    /// What each kind is for, in a paragraph.
    public static func introduction(_ kind: NetWatchKind) -> String {
        switch kind {
        case .monitoringStack:
            "One Prometheus whose configuration netwatch owns: how it scrapes, where its configuration goes (a ConfigMap, a Secret or a directory), how it is reloaded, and which NetworkMonitors, NetworkAlerts and NetworkDashboards (and prometheus-operator PodMonitors, ServiceMonitors and PrometheusRules) feed it. Status: `targets`, `configHash`, `lastReload` and the conditions `ConfigValid`, `Ready` and `Reloaded`."
        case .networkMonitor:
            "Which pods (by label, in which namespaces) and which outside hosts a stack scrapes, on which ports, with which relabelings; `networkExporter: true` also scrapes the per-pod exporter SidecarInjectors add. Status: `endpoints` and `Accepted` naming the first problem."
        case .networkAlerts:
            "Built-in alert packs (node-network, tcp, sockets, conntrack, mesh, netwatch) tuned by thresholds, and custom rule groups in Prometheus's rule-file syntax, checked by netwatch's PromQL parser. docs/alerts.md lists every alert and knob. Status: `rules` and `Accepted`."
        case .networkDashboard:
            "A Grafana dashboard from a preset (node-network, pod-network, sockets, mesh, service-graph, probes) tuned by thresholds and device exclusion, with custom panels, delivered as a sidecar ConfigMap or a grafana-operator GrafanaDashboard. docs/dashboards.md lists the presets. Status: `stacks` and `Accepted`."
        case .sidecarInjector:
            "Which pods get the per-pod network exporter (node_exporter with its network collectors, in the pod's network namespace) and custom sidecars, through netwatch's admission webhook (or `netwatch inject` and render's patches for GitOps). docs/injection.md explains the order of checks. Status: `Accepted`."
        case .networkProbe:
            "A synthetic check — ICMP, TCP, HTTP, DNS or a TLS handshake — of static hosts or Services found by label, run by a blackbox_exporter. netwatch writes both the Prometheus job that asks the prober (as prometheus-operator's Probe does) and the prober's module in the stack's blackbox.yml. docs/probing.md explains the setup. Status: `targets` and `Accepted`."
        case .flowPolicy:
            "NetworkPolicies learned from observed traffic (IPFIX/NetFlow, Hubble, Istio): one per workload, Learning → Stabilizing → Stable, observed, audited or enforced, with DNS and netwatch's own companions allowed and a default-deny once all are Stable. docs/flows.md explains the lifecycle. Status: `phase`, `learningSince`, `observedConnections`, `workloads`, `policies`, `deniedWouldBe`, `deniedWouldBeCount`, conditions `Accepted` and `Stable`."
        }
    }

    public static func markdown(for kind: NetWatchKind) -> String {
        let introduction = introduction(kind)
        var rows: [String] = []
        walk(kind.specSchema, path: "spec", required: true, into: &rows)
        let scope = kind.isNamespaced ? "namespaced" : "cluster-scoped"
        return """
            # \(kind.rawValue)

            `\(NetWatchKind.apiVersion)`, \(scope); short name\(kind.shortNames.count == 1 ? "" : "s") \(kind.shortNames.map { "`\($0)`" }.joined(separator: ", ")) \
            (`kubectl get \(kind.shortNames.first ?? kind.plural)`).

            \(introduction)

            <!-- Generated from the schema by `make golden` (ResourceReferenceTests); edit the schema's descriptions, not this table. -->

            | field | type | description |
            |---|---|---|
            \(rows.joined(separator: "\n"))

            """
    }

    static func walk(_ schema: Schema, path: String, required: Bool, into rows: inout [String]) {
        switch schema {
        case .validated(let inner, let rules):
            walk(inner, path: path, required: required, into: &rows)
            for rule in rules { rows.append("| `\(path)` | admission rule | \(rule.message) (`\(rule.rule.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|"))`) |") }
        case .object(let properties, let requiredNames, let description):
            if path != "spec" || description != nil {
                rows.append(row(path, "object", description, required: required && path != "spec"))
            }
            for property in properties {
                walk(property.schema, path: "\(path).\(property.name)", required: requiredNames.contains(property.name), into: &rows)
            }
        case .array(let items, let description):
            if case .validated(let inner, let rules) = items {
                walk(.array(items: inner, description: description), path: path, required: required, into: &rows)
                for rule in rules { rows.append("| `\(path)[]` | admission rule | \(rule.message) (`\(rule.rule)`) |") }
                return
            }
            switch items {
            case .object:
                rows.append(row(path, "list of objects", description, required: required))
                guard case .object(let properties, let requiredNames, _) = items else { return }
                for property in properties {
                    walk(property.schema, path: "\(path)[].\(property.name)", required: requiredNames.contains(property.name), into: &rows)
                }
            default:
                rows.append(row(path, "list of \(typeName(items))", description ?? items.descriptionText, required: required))
            }
        case .map(let values, let description):
            rows.append(row(path, "map of \(typeName(values))", description, required: required))
        default:
            rows.append(row(path, typeName(schema), schema.descriptionText, required: required, constraints: constraints(schema)))
        }
    }

    static func typeName(_ schema: Schema) -> String {
        switch schema {
        case .object: "object"
        case .map(let values, _): "map of \(typeName(values))"
        case .array(let items, _): "list of \(typeName(items))"
        case .string(_, _, _, let check): check?.name == "prometheus-duration" ? "duration" : "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .intOrString: "integer or string"
        case .any: "any"
        case .validated(let inner, _): typeName(inner)
        }
    }

    static func constraints(_ schema: Schema) -> String? {
        switch schema {
        case .string(_, let values?, _, _): "one of " + values.map { "`\($0)`" }.joined(separator: ", ")
        case .string(_, nil, let pattern?, nil): "matches `\(pattern)`"
        case .integer(_, let minimum, let maximum) where minimum != nil || maximum != nil:
            [minimum.map { "≥ \($0)" }, maximum.map { "≤ \($0)" }].compactMap { $0 }.joined(separator: ", ")
        case .number(_, let minimum, let maximum) where minimum != nil || maximum != nil:
            [minimum.map { "≥ \($0)" }, maximum.map { "≤ \($0)" }].compactMap { $0 }.joined(separator: ", ")
        default: nil
        }
    }

    static func row(_ path: String, _ type: String, _ description: String?, required: Bool, constraints: String? = nil) -> String {
        let text = [description, constraints.map { "(\($0))" }, required ? "**Required.**" : nil].compactMap { $0 }.joined(separator: " ")
        return "| `\(path)` | \(type) | \(text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")) |"
    }
}

extension Schema {
    var descriptionText: String? {
        switch self {
        case .object(_, _, let description), .map(_, let description), .array(_, let description), .string(let description, _, _, _),
             .integer(let description, _, _), .number(let description, _, _), .boolean(let description), .intOrString(let description),
             .any(let description):
            description
        case .validated(let inner, _): inner.descriptionText
        }
    }
}
