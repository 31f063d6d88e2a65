public import KubeModel

/// Turns observed connections into workload edges: each end is what its source reported, else
/// what the snapshot says its address was when the connection was first seen; a connection to
/// a Service's cluster IP becomes one edge per backend workload on the Service's `targetPort`
/// (by name when it is named), because NetworkPolicies are enforced after DNAT, on the pod's
/// port. A connection to a Service
/// without a port (Istio's metrics carry none) stands for every port of the Service. Backends
/// are the workloads of the pods the Service selects, and the top-level workloads whose pod
/// template it selects (manifests on disk have no pods).
public struct EdgeBuilder: Sendable {
    public var resolver: IdentityResolver
    public var services: [Service]
    public var pods: [Pod]

    public init(resolver: IdentityResolver, services: [Service], pods: [Pod]) {
        self.resolver = resolver
        self.services = services
        self.pods = pods
    }

    public func edges(_ connections: [ObservedConnection]) -> [ResolvedEdge] {
        var merged: [ResolvedEdge: ResolvedEdge] = [:]
        for connection in connections {
            func add(_ client: Peer, _ server: Peer, _ port: IntOrString, _ transport: ObservedConnection.Transport, _ flows: Int) {
                let key = ResolvedEdge(client: client, server: server, port: port, transport: transport, flows: 0)
                if var edge = merged[key] {
                    edge.flows += flows
                    edge.firstSeen = min(edge.firstSeen, connection.firstSeen)
                    edge.lastSeen = max(edge.lastSeen, connection.lastSeen)
                    merged[key] = edge
                } else {
                    merged[key] = ResolvedEdge(client: client, server: server, port: port, transport: transport, flows: flows,
                                               firstSeen: connection.firstSeen, lastSeen: connection.lastSeen)
                }
            }
            let time = connection.firstSeen
            let client = resolver.resolve(connection.key.client, reported: connection.clientIdentity, at: time)
            let server = resolver.resolve(connection.key.server, reported: connection.serverIdentity, at: time)
            guard case .service(let namespace, let name) = server else {
                // Port 0 ("any port of the Service") means nothing without a Service.
                if connection.key.serverPort != 0 { add(client, server, .int(Int(connection.key.serverPort)), connection.key.transport, connection.flows) }
                continue
            }
            guard let service = services.first(where: { ($0.metadata.namespace ?? "default") == namespace && $0.metadata.name == name }),
                  let selector = service.spec.selector, !selector.isEmpty else {
                if connection.key.serverPort != 0 { add(client, server, .int(Int(connection.key.serverPort)), connection.key.transport, connection.flows) }
                continue
            }
            let servicePorts = (service.spec.ports ?? []).filter { ($0.protocol ?? "TCP") == connection.key.transport.rawValue }
            let targets: [IntOrString] = connection.key.serverPort == 0
                ? servicePorts.map { $0.targetPort ?? .int($0.port) }
                : [servicePorts.first { $0.port == Int(connection.key.serverPort) }?.targetPort ?? .int(Int(connection.key.serverPort))]
            let backends = Set(pods.filter { pod in
                (pod.metadata.namespace ?? "default") == namespace && !pod.spec.hostNetwork && selector.allSatisfy { pod.metadata.labels[$0.key] == $0.value }
            }.map { resolver.workload(of: $0) }).union(resolver.workloads(selectedBy: selector, in: namespace))
            for backend in backends.sorted() {
                for target in targets { add(client, .workload(backend), target, connection.key.transport, connection.flows) }
            }
        }
        return merged.values.sorted()
    }
}
