public import KubeModel
import Synchronization

/// Pods grouped by namespace, each group sorted by name: what static discovery walks, so a job
/// scoped to a few namespaces never looks at the rest of the cluster — and, per label a job's
/// selector requires, the pods carrying each value, so a job selecting `app: web` visits the
/// web pods rather than every pod (built on first use of that label, once per render).
public struct PodIndex: Sendable {
    public private(set) var byNamespace: [String: [Pod]]
    public let sortedNamespaces: [String]
    /// The groups of `sortedNamespaces`, in that order (the same buffers as `byNamespace`).
    private let groups: [[Pod]]
    private let labels: LabelPositions

    public init(_ pods: [Pod]) {
        var groups: [String: [Pod]] = [:]
        for pod in pods { groups[pod.metadata.namespace ?? "default", default: []].append(pod) }
        for key in groups.keys { groups[key]?.sort { $0.metadata.name < $1.metadata.name } }
        byNamespace = groups
        sortedNamespaces = groups.keys.sorted()
        self.groups = sortedNamespaces.map { groups[$0] ?? [] }
        labels = LabelPositions()
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

    /// The pods in scope that may match `selector`, in (namespace, name) order: with a required
    /// label (`matchLabels`), only the pods carrying that value; otherwise every pod in scope.
    /// The caller still applies the whole selector.
    func pods(matching selector: LabelSelector, in scope: ScrapeJob.NamespaceScope, visit: (Pod) -> Void) {
        guard let key = selector.matchLabels.keys.min(), let value = selector.matchLabels[key] else {
            return pods(in: scope, visit: visit)
        }
        let positions = labels.positions(key: key, value: value, groups: groups)
        for position in positions {
            let namespaceIndex = Int(position >> 32)
            if case .names(let names) = scope, !names.contains(sortedNamespaces[namespaceIndex]) { continue }
            let group = groups[namespaceIndex]
            visit(group[Int(position & 0xFFFF_FFFF)])
        }
    }
}

/// Positions (namespace index << 32 | index in its group, ascending) of the pods carrying each
/// value of a label, per label key asked for. Filled once per key; shared by the jobs of a render.
private final class LabelPositions: Sendable {
    private let byKey = Mutex<[String: [String: [UInt64]]]>([:])

    func positions(key: String, value: String, groups: [[Pod]]) -> [UInt64] {
        if let known = byKey.withLock({ $0[key] }) { return known[value] ?? [] }
        var byValue: [String: [UInt64]] = [:]
        for (namespaceIndex, group) in groups.enumerated() {
            for index in group.indices {
                guard let found = group[index].metadata.labels[key] else { continue }
                byValue[found, default: []].append(UInt64(namespaceIndex) << 32 | UInt64(index))
            }
        }
        byKey.withLock { $0[key] = byValue }
        return byValue[value] ?? []
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
