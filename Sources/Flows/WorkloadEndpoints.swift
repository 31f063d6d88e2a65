public import KubeModel

/// Each workload of a flow graph as the ends a NetworkPolicy judges: one endpoint per distinct
/// (labels, named ports) among its pods, so a named port is resolved on the pods that really
/// carry it; from its pod template when the input has no pods (manifests on disk); from the
/// labels a flow source reported (Hubble) when the input has neither. Peers outside the cluster,
/// nodes and the API server are endpoints without a namespace, judged by address only.
public struct WorkloadEndpoints: Sendable {
    var variants: [WorkloadReference: [PolicyEvaluator.Endpoint]] = [:]
    var namespaceLabels: [String: [String: String]] = [:]

    public init(pods: [Pod], workloads: [Workload], namespaces: [Namespace], resolver: IdentityResolver, connections: [ObservedConnection] = []) {
        for namespace in namespaces { namespaceLabels[namespace.metadata.name] = namespace.metadata.labels }
        var seen: [WorkloadReference: Set<Variant>] = [:]
        for pod in pods where !pod.spec.hostNetwork {
            let workload = resolver.workload(of: pod)
            let variant = Variant(labels: pod.metadata.labels, namedPorts: Self.namedPorts(pod.spec.initContainers + pod.spec.containers))
            guard seen[workload, default: []].insert(variant).inserted else { continue }
            let address = pod.status.primaryIP.flatMap { IPAddress($0) } ?? ObservedConnection.Key.unknownAddress
            variants[workload, default: []].append(endpoint(workload.namespace, variant, address))
        }
        for workload in workloads where workload.metadata.ownerReferences.isEmpty {
            let reference = WorkloadReference(namespace: workload.metadata.namespace ?? "default", kind: workload.kind, name: workload.metadata.name)
            guard variants[reference] == nil else { continue }
            let template = workload.template
            let variant = Variant(labels: template.metadata.labels, namedPorts: Self.namedPorts(template.spec.initContainers + template.spec.containers))
            variants[reference] = [endpoint(reference.namespace, variant, ObservedConnection.Key.unknownAddress)]
        }
        for connection in connections {
            for case .workload(let workload, let labels)? in [connection.clientIdentity, connection.serverIdentity]
            where !workload.kind.isEmpty && variants[workload] == nil {
                let stable = labels.filter { !PolicyGenerator.volatileLabels.contains($0.key) }
                variants[workload] = [endpoint(workload.namespace, Variant(labels: stable, namedPorts: [:]), ObservedConnection.Key.unknownAddress)]
            }
        }
    }

    struct Variant: Hashable {
        var labels: [String: String]
        var namedPorts: [String: Int]
    }

    func endpoint(_ namespace: String, _ variant: Variant, _ address: IPAddress) -> PolicyEvaluator.Endpoint {
        PolicyEvaluator.Endpoint(namespace: namespace, labels: variant.labels, namespaceLabels: namespaceLabels[namespace] ?? [:],
                                 address: address, namedPorts: variant.namedPorts)
    }

    /// A pod as an end at `address` (the address the flow saw it at).
    public func endpoint(of pod: Pod, at address: IPAddress) -> PolicyEvaluator.Endpoint {
        endpoint(pod.metadata.namespace ?? "default",
                 Variant(labels: pod.metadata.labels, namedPorts: Self.namedPorts(pod.spec.initContainers + pod.spec.containers)), address)
    }

    static func namedPorts(_ containers: [Container]) -> [String: Int] {
        var named: [String: Int] = [:]
        for port in containers.flatMap(\.ports) { if let name = port.name, named[name] == nil { named[name] = port.containerPort } }
        return named
    }

    /// The ends `peer` stands for: a workload's variants (one with its namespace's labels and
    /// no pod labels when nothing is known about it), an address for anything outside, and
    /// none for a Service (the caller resolves Services to their backends first).
    public func endpoints(of peer: Peer) -> [PolicyEvaluator.Endpoint] {
        switch peer {
        case .workload(let workload):
            return variants[workload] ?? [endpoint(workload.namespace, Variant(labels: [:], namedPorts: [:]), ObservedConnection.Key.unknownAddress)]
        case .node(_, let address), .apiServer(let address), .external(let address):
            return [PolicyEvaluator.Endpoint(namespace: nil, address: address)]
        case .service:
            return []
        }
    }

    /// Whether anything is known about the workload's pods (pods, template or reported labels).
    public func knows(_ workload: WorkloadReference) -> Bool { variants[workload] != nil }
}
