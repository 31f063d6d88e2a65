public import DataTree
import KubeModel
import NetWatchAPI

/// Injection into whole objects as they sit in manifests: Pods, and the pod templates of
/// Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs (like
/// `istioctl kube-inject`, but only the injected fields change: nothing is re-serialized
/// through a typed model, so no zero-value noise appears).
public enum WorkloadInjection {
    /// Where the pod (template) sits in an object of `kind`; nil for kinds that hold no pod.
    public static func templatePath(group: String, kind: String) -> [String]? {
        switch (group, kind) {
        case ("", "Pod"): []
        case ("apps", let kind) where Workload.kinds.contains(kind), ("batch", let kind) where Workload.kinds.contains(kind): Workload.templatePath(kind: kind)
        default: nil
        }
    }

    /// The outcome for one object: the mutated object and the patch of the whole object
    /// (paths from its root), or why nothing changed. Objects of other kinds are `.skipped`.
    public static func inject(
        _ object: Node, group: String, kind: String, namespaceLabels: [String: String], injectors: [SidecarInjection.Injector],
        capabilities: SidecarInjection.Capabilities, operatorNamespace: String
    ) -> SidecarInjection.Outcome {
        guard let path = templatePath(group: group, kind: kind) else { return .skipped("\(kind) holds no pod template") }
        var template = object
        for key in path { template = template[key] ?? .mapping(Mapping()) }
        let namespace = object["metadata"]?["namespace"]?.string ?? "default"
        let outcome = SidecarInjection.inject(pod: template, namespace: namespace, namespaceLabels: namespaceLabels, injectors: injectors,
                                              capabilities: capabilities, operatorNamespace: operatorNamespace)
        guard case .injected(let mutatedTemplate, _, let injector) = outcome else { return outcome }
        let mutated = replacing(in: object, at: path[...], with: mutatedTemplate)
        return .injected(pod: mutated, patch: JSONPatch.diff(from: object, to: mutated), injector: injector)
    }

    static func replacing(in node: Node, at path: ArraySlice<String>, with value: Node) -> Node {
        guard let key = path.first else { return value }
        var map = node.mapping ?? Mapping()
        map[key] = replacing(in: map[key] ?? .mapping(Mapping()), at: path.dropFirst(), with: value)
        return .mapping(map)
    }
}
