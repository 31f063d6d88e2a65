public import KubeModel
import NetWatchAPI

/// What Prometheus's Kubernetes discovery (role `node`, `discovery/kubernetes/node.go`
/// `buildNode`, 3.x) produces for one Node: group labels (name, provider ID, each condition's
/// status lower-cased, labels and annotations) and one target, the kubelet at the preferred
/// address and the kubelet port, with `instance` set to the node name and the first address of
/// each type. A Node without an address has no target.
///
/// Empty values are left out, as for `PodDiscoveryLabels`. Prometheus 2.x has no condition
/// labels and prefers fewer address types; netwatch follows 3.x.
public struct NodeDiscoveryLabels: Sendable {
    /// Sorted by name.
    public var groupLabels: [(String, String)]
    /// nil for a Node without an address.
    public var target: (address: String, labels: [(String, String)])?

    public init(_ node: ClusterNode) {
        var group: [(String, String)] = [("__meta_kubernetes_node_provider_id", node.providerID)]
        var seenConditions: Set<String> = []
        for condition in node.conditions {
            let name = "__meta_kubernetes_node_condition_" + LabelSanitizer.sanitize(condition.type.lowercased())
            // A later duplicate overwrites in Prometheus's map.
            if !seenConditions.insert(name).inserted { group.removeAll { $0.0 == name } }
            group.append((name, condition.status.lowercased()))
        }
        group.append(("__meta_kubernetes_node_name", node.metadata.name))
        group += PodDiscoveryLabels.objectLabels(node.metadata, role: "node")
        groupLabels = group.filter { !$0.1.isEmpty }.sorted { $0.0 < $1.0 }
        guard let host = node.preferredAddress else {
            target = nil
            return
        }
        var labels: [(String, String)] = [("instance", node.metadata.name)]
        var seenTypes: Set<String> = []
        for address in node.addresses where seenTypes.insert(address.type).inserted {
            labels.append(("__meta_kubernetes_node_address_" + LabelSanitizer.sanitize(address.type), address.address))
        }
        let joined = host.contains(":") ? "[\(host)]:\(node.kubeletPort)" : "\(host):\(node.kubeletPort)"
        target = (joined, labels.filter { !$0.1.isEmpty }.sorted { $0.0 < $1.0 })
    }
}
