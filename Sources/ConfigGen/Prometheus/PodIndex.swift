public import KubeModel

/// Pods grouped by namespace, each group sorted by name: what static discovery walks, so a job
/// scoped to a few namespaces never looks at the rest of the cluster.
public struct PodIndex: Sendable {
    public private(set) var byNamespace: [String: [Pod]]
    public let sortedNamespaces: [String]

    public init(_ pods: [Pod]) {
        var groups: [String: [Pod]] = [:]
        for pod in pods { groups[pod.metadata.namespace ?? "default", default: []].append(pod) }
        for key in groups.keys { groups[key]?.sort { $0.metadata.name < $1.metadata.name } }
        byNamespace = groups
        sortedNamespaces = groups.keys.sorted()
    }

    /// Pods in scope, in (namespace, name) order.
    func pods(in scope: ScrapeJob.NamespaceScope, visit: (Pod) -> Void) {
        let namespaces: [String]
        switch scope {
        case .all: namespaces = sortedNamespaces
        case .names(let names): namespaces = names
        }
        for namespace in namespaces {
            guard let group = byNamespace[namespace] else { continue }
            // Index access lends each pod to `visit`; iterating the array would copy every pod
            // (a retain and release per field), which dominated renders with many jobs.
            for index in group.indices { visit(group[index]) }
        }
    }
}

extension PodIndex {
    /// The pod with this namespace and name, found by binary search.
    func pod(namespace: String, name: String) -> Pod? {
        guard let group = byNamespace[namespace] else { return nil }
        var low = 0
        var high = group.count
        while low < high {
            let middle = (low + high) / 2
            if group[middle].metadata.name < name { low = middle + 1 } else { high = middle }
        }
        return low < group.count && group[low].metadata.name == name ? group[low] : nil
    }
}
