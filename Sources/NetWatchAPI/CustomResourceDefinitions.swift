public import DataTree
import KubeModel

/// The CustomResourceDefinitions of netwatch.dev, generated from the schemas in
/// `NetWatchSchemas` so the API server and `netwatch validate` apply the same rules.
public enum CustomResourceDefinitions {
    /// One CRD per kind, in `NetWatchKind` order.
    public static func all() -> [(fileName: String, document: Node)] {
        NetWatchKind.allCases.map { kind in
            ("\(NetWatchKind.group)_\(kind.plural).yaml", definition(for: kind))
        }
    }

    static func printerColumns(for kind: NetWatchKind) -> Node {
        var columns: [Node] = []
        switch kind {
        case .monitoringStack:
            columns.append(["name": "Ready", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Ready")].status"#])
            columns.append(["name": "Targets", "type": "integer", "jsonPath": ".status.targets"])
            columns.append(["name": "Discovery", "type": "string", "jsonPath": ".spec.prometheus.discovery", "priority": 1])
        case .networkMonitor:
            columns.append(["name": "Endpoints", "type": "integer", "jsonPath": ".status.endpoints"])
            columns.append(["name": "Accepted", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Accepted")].status"#])
        case .networkDashboard:
            columns.append(["name": "Preset", "type": "string", "jsonPath": ".spec.preset"])
            columns.append(["name": "Accepted", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Accepted")].status"#])
        case .sidecarInjector:
            columns.append(["name": "Sidecar", "type": "string", "jsonPath": ".spec.sidecar"])
            columns.append(["name": "Failure-Policy", "type": "string", "jsonPath": ".spec.failurePolicy"])
            columns.append(["name": "Accepted", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Accepted")].status"#])
        case .flowPolicy:
            columns.append(["name": "Mode", "type": "string", "jsonPath": ".spec.mode"])
            columns.append(["name": "Phase", "type": "string", "jsonPath": ".status.phase"])
            columns.append(["name": "Connections", "type": "integer", "jsonPath": ".status.observedConnections"])
            columns.append(["name": "Would-Deny", "type": "integer", "jsonPath": ".status.deniedWouldBeCount", "priority": 1])
        case .networkProbe:
            columns.append(["name": "Prober", "type": "string", "jsonPath": ".spec.prober.url"])
            columns.append(["name": "Targets", "type": "integer", "jsonPath": ".status.targets"])
            columns.append(["name": "Accepted", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Accepted")].status"#])
        case .networkAlerts:
            columns.append(["name": "Rules", "type": "integer", "jsonPath": ".status.rules"])
            columns.append(["name": "Accepted", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Accepted")].status"#])
        }
        columns.append(["name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"])
        return .sequence(columns)
    }

    static func definition(for kind: NetWatchKind) -> Node {
        let name = "\(kind.plural).\(NetWatchKind.group)"
        var schema = kind.objectSchema.openAPI
        if case .mapping(var mapping) = schema, case .mapping(var properties)? = mapping["properties"] {
            // metadata is validated by the API server itself; the CRD only declares its type.
            properties["metadata"] = ["type": "object"]
            mapping["properties"] = .mapping(properties)
            schema = .mapping(mapping)
        }
        return [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": ["name": .string(name), "labels": ["app.kubernetes.io/part-of": "netwatch"]],
            "spec": [
                "group": .string(NetWatchKind.group),
                "names": [
                    "kind": .string(kind.rawValue),
                    "listKind": .string(kind.rawValue + "List"),
                    "plural": .string(kind.plural),
                    "singular": .string(kind.rawValue.lowercased()),
                    "shortNames": .strings(kind.shortNames),
                    "categories": ["netwatch"],
                ],
                "scope": kind.isNamespaced ? "Namespaced" : "Cluster",
                "versions": [[
                    "name": .string(NetWatchKind.version),
                    "served": true,
                    "storage": true,
                    "subresources": ["status": [:]],
                    "additionalPrinterColumns": printerColumns(for: kind),
                    "schema": ["openAPIV3Schema": schema],
                ]],
            ],
        ]
    }
}
