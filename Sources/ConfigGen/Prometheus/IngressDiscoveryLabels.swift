public import KubeModel

/// What Prometheus's Kubernetes discovery (role `ingress`, `discovery/kubernetes/ingress.go`
/// `buildIngress`) produces for one Ingress: group labels (namespace, name, class, labels and
/// annotations) and one target per rule × path, whose address is the rule's host.
///
/// A rule without an `http` block, or a path left empty, is the path `/`; the scheme is
/// `https` when a TLS entry covers the host. Empty values are left out, as for
/// `PodDiscoveryLabels` (Prometheus drops them before relabelling), so a rule without a host
/// is a target with an empty address.
public struct IngressDiscoveryLabels: Sendable {
    public struct Target: Sendable {
        public var address: String
        /// Sorted by name.
        public var labels: [(String, String)]
    }

    /// Sorted by name.
    public var groupLabels: [(String, String)]
    public var targets: [Target]

    public init(_ ingress: Ingress) {
        var group: [(String, String)] = [
            ("__meta_kubernetes_namespace", ingress.metadata.namespace ?? "default"),
            ("__meta_kubernetes_ingress_name", ingress.metadata.name),
        ]
        if let className = ingress.ingressClassName { group.append(("__meta_kubernetes_ingress_class_name", className)) }
        group += PodDiscoveryLabels.objectLabels(ingress.metadata, role: "ingress")
        groupLabels = group.filter { !$0.1.isEmpty }.sorted { $0.0 < $1.0 }
        var targets: [Target] = []
        for rule in ingress.rules {
            let scheme = ingress.scheme(of: rule.host)
            for path in rule.paths.map({ $0.map { $0.isEmpty ? "/" : $0 } }) ?? ["/"] {
                let labels = [
                    ("__meta_kubernetes_ingress_host", rule.host),
                    ("__meta_kubernetes_ingress_path", path),
                    ("__meta_kubernetes_ingress_scheme", scheme),
                ].filter { !$0.1.isEmpty }
                targets.append(Target(address: rule.host, labels: labels))
            }
        }
        self.targets = targets
    }
}
