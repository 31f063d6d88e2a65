public import KubeModel

/// `netwatch policy check`'s judgement: which observed connections the NetworkPolicies in force
/// would deny, grouped into workload edges, with the policies that decide it on each end.
///
/// Guarantees: each connection is judged on the pods that really were its ends — the pod that
/// held each address when the connection was first seen, so a named port is resolved on that
/// pod; a connection to a Service's cluster IP is judged on every backend pod at the Service's
/// targetPort resolved on that pod (DNAT happens before policy); when the input has no pod for
/// an end (manifests on disk, or a source that reports workloads), on every (labels, named
/// ports) variant the workload is known by. An edge is denied when any of its connections is.
/// Connections to a Service the input cannot resolve to backends are counted, not judged (a
/// policy never selects a Service). Findings are sorted: the same input gives the same report.
public struct PolicyCheck: Sendable {
    /// An observed workload edge whose connections the policies would deny.
    public struct Finding: Sendable, Hashable {
        /// The edge: ends, the port as observed on the server (a named targetPort by name), flows and times.
        public var edge: ResolvedEdge
        /// The server port as a number (a named port resolved on a server pod); nil when no
        /// pod of the server declares the name.
        public var port: Int?
        /// How many of the edge's observed connections (and backend pods) are denied.
        public var connections: Int
        /// Which end's policies refuse it: Ingress (the server's), Egress (the client's), or both.
        public var deniedBy: [PolicyEvaluator.Direction]
        /// Indices into the evaluator's policies selecting the server for ingress.
        public var ingressPolicies: [Int]
        /// Indices into the evaluator's policies selecting the client for egress.
        public var egressPolicies: [Int]
        /// The allow-list entry that accepts it, if any.
        public var acceptedBy: PolicyAllowList.Entry?
    }

    public struct Report: Sendable {
        /// Observed connections read.
        public var connections: Int
        /// Workload edges judged (client, server, port, transport after Service resolution).
        public var edges: Int
        /// Denied and not accepted: these fail the check.
        public var denied: [Finding]
        /// Denied but accepted by the allow list.
        public var accepted: [Finding]
        /// Edges to a Service the input does not resolve to backends.
        public var unresolved: [ResolvedEdge]
        /// Allow-list entries that accepted nothing (stale: the connection is gone or allowed now).
        public var unusedAllowEntries: [PolicyAllowList.Entry]
    }

    public var evaluator: PolicyEvaluator
    public var resolver: IdentityResolver
    public var pods: [Pod]
    public var services: [Service]
    public var endpoints: WorkloadEndpoints
    public var allowList: PolicyAllowList

    /// `resolver` must have been made from `pods` (it names pods by their index there).
    public init(evaluator: PolicyEvaluator, resolver: IdentityResolver, pods: [Pod], services: [Service], endpoints: WorkloadEndpoints,
                allowList: PolicyAllowList = PolicyAllowList()) {
        self.evaluator = evaluator
        self.resolver = resolver
        self.pods = pods
        self.services = services
        self.endpoints = endpoints
        self.allowList = allowList
    }

    public func run(_ connections: [ObservedConnection]) -> Report {
        var judge = Judge(check: self)
        for connection in connections { judge.add(connection) }
        return judge.report()
    }
}

extension PolicyCheck {
    /// What a connection's end was, as evaluation needs it.
    enum End: Hashable {
        case pod(Int, IPAddress)
        case variant(WorkloadReference, Int)
        case address(IPAddress)
    }

    /// One (client end, server end, port) a connection stands for, with its workload edge.
    struct Target {
        var server: End
        var peer: Peer
        var observedPort: IntOrString
        var port: Int?
    }

    struct EdgeKey: Hashable {
        var client: Peer
        var server: Peer
        var port: IntOrString
        var transport: ObservedConnection.Transport
    }

    struct VerdictKey: Hashable {
        var client: Int
        var server: Int
        var port: Int
        var transport: ObservedConnection.Transport
    }

    /// The state of one run: ends interned with the policies selecting them, verdicts memoised
    /// per (client end, server end, port), edges and findings accumulated.
    struct Judge {
        let check: PolicyCheck
        var endIDs: [End: Int] = [:]
        var ends: [(endpoint: PolicyEvaluator.Endpoint, ingress: [Int], egress: [Int])] = []
        var verdicts: [VerdictKey: PolicyEvaluator.Verdict] = [:]
        var backends: [String: [(peer: Peer, end: End)]?] = [:]
        var edges: [EdgeKey: ResolvedEdge] = [:]
        var findings: [EdgeKey: Finding] = [:]
        var unresolved: [EdgeKey: ResolvedEdge] = [:]
        var count = 0

        init(check: PolicyCheck) { self.check = check }

        mutating func id(_ end: End) -> Int {
            if let id = endIDs[end] { return id }
            let endpoint: PolicyEvaluator.Endpoint = switch end {
            case .pod(let index, let address): check.endpoints.endpoint(of: check.pods[index], at: address)
            case .variant(let workload, let index): check.endpoints.endpoints(of: .workload(workload))[index]
            case .address(let address): PolicyEvaluator.Endpoint(namespace: nil, address: address)
            }
            ends.append((endpoint, check.evaluator.selecting(endpoint, for: .ingress), check.evaluator.selecting(endpoint, for: .egress)))
            endIDs[end] = ends.count - 1
            return ends.count - 1
        }

        /// The ends a peer stands for: the pod at the address when known, else the workload's variants.
        func ends(of peer: Peer, address: IPAddress, time: Int64) -> [End] {
            switch peer {
            case .workload(let workload):
                if let index = check.resolver.podIndex(at: address, time: time), check.resolver.workload(of: check.pods[index]) == workload {
                    return [.pod(index, address)]
                }
                return check.endpoints.endpoints(of: peer).indices.map { .variant(workload, $0) }
            case .service, .node, .apiServer, .external:
                return [.address(address)]
            }
        }

        /// A Service's backends: its selected pods, else the workloads whose template it selects; nil when unknown.
        mutating func backends(_ namespace: String, _ name: String) -> (service: Service, backends: [(peer: Peer, end: End)])? {
            guard let service = check.services.first(where: { ($0.metadata.namespace ?? "default") == namespace && $0.metadata.name == name }),
                  let selector = service.spec.selector, !selector.isEmpty else { return nil }
            let key = namespace + "/" + name
            if let known = backends[key] { return known.map { (service, $0) } }
            var found: [(peer: Peer, end: End)] = []
            var covered = Set<WorkloadReference>()
            for (index, pod) in check.pods.enumerated()
            where (pod.metadata.namespace ?? "default") == namespace && !pod.spec.hostNetwork && selector.allSatisfy({ pod.metadata.labels[$0.key] == $0.value }) {
                let workload = check.resolver.workload(of: pod)
                covered.insert(workload)
                let address = pod.status.primaryIP.flatMap { IPAddress($0) } ?? ObservedConnection.Key.unknownAddress
                found.append((.workload(workload), .pod(index, address)))
            }
            for workload in check.resolver.workloads(selectedBy: selector, in: namespace) where !covered.contains(workload) {
                for index in check.endpoints.endpoints(of: .workload(workload)).indices { found.append((.workload(workload), .variant(workload, index))) }
            }
            backends[key] = .some(found)
            return (service, found)
        }

        func portNumber(_ port: IntOrString, on end: End) -> Int? {
            switch port {
            case .int(let number): return number
            case .string(let name):
                return switch end {
                case .pod(let index, _): WorkloadEndpoints.namedPorts(check.pods[index].spec.initContainers + check.pods[index].spec.containers)[name]
                case .variant(let workload, let variant): check.endpoints.endpoints(of: .workload(workload))[variant].namedPorts[name]
                case .address: nil
                }
            }
        }

        mutating func add(_ connection: ObservedConnection) {
            count += 1
            let key = connection.key, time = connection.firstSeen
            let clientPeer = check.resolver.resolve(key.client, reported: connection.clientIdentity, at: time)
            let serverPeer = check.resolver.resolve(key.server, reported: connection.serverIdentity, at: time)
            var targets: [Target] = []
            if case .service(let namespace, let name) = serverPeer {
                guard let (service, backends) = backends(namespace, name) else {
                    if key.serverPort != 0 {
                        record(unresolved: EdgeKey(client: clientPeer, server: serverPeer, port: .int(Int(key.serverPort)), transport: key.transport), connection)
                    }
                    return
                }
                let servicePorts = (service.spec.ports ?? []).filter { ($0.protocol ?? "TCP") == key.transport.rawValue }
                let observed: [IntOrString] = key.serverPort == 0
                    ? servicePorts.map { $0.targetPort ?? .int($0.port) }
                    : [servicePorts.first { $0.port == Int(key.serverPort) }?.targetPort ?? .int(Int(key.serverPort))]
                for backend in backends {
                    for port in observed { targets.append(Target(server: backend.end, peer: backend.peer, observedPort: port, port: portNumber(port, on: backend.end))) }
                }
            } else {
                guard key.serverPort != 0 else { return }  // "any port of the Service" means nothing without a Service
                for end in ends(of: serverPeer, address: key.server, time: time) {
                    targets.append(Target(server: end, peer: serverPeer, observedPort: .int(Int(key.serverPort)), port: Int(key.serverPort)))
                }
            }
            let clients = ends(of: clientPeer, address: key.client, time: time).map { id($0) }
            for target in targets {
                let edgeKey = EdgeKey(client: clientPeer, server: target.peer, port: target.observedPort, transport: key.transport)
                record(edge: edgeKey, connection)
                let server = id(target.server)
                for client in clients {
                    let verdictKey = VerdictKey(client: client, server: server, port: target.port ?? -1, transport: key.transport)
                    let verdict: PolicyEvaluator.Verdict
                    if let known = verdicts[verdictKey] {
                        verdict = known
                    } else {
                        verdict = check.evaluator.verdict(from: ends[client].endpoint, selectingClient: ends[client].egress,
                                                          to: ends[server].endpoint, selectingServer: ends[server].ingress,
                                                          port: target.port ?? -1, transport: key.transport)
                        verdicts[verdictKey] = verdict
                    }
                    if !verdict.allowed { record(denial: verdict, edgeKey, port: target.port) }
                }
            }
        }

        mutating func record(edge key: EdgeKey, _ connection: ObservedConnection) {
            if var edge = edges[key] {
                edge.flows += connection.flows
                edge.firstSeen = min(edge.firstSeen, connection.firstSeen)
                edge.lastSeen = max(edge.lastSeen, connection.lastSeen)
                edges[key] = edge
            } else {
                edges[key] = ResolvedEdge(client: key.client, server: key.server, port: key.port, transport: key.transport, flows: connection.flows,
                                          firstSeen: connection.firstSeen, lastSeen: connection.lastSeen)
            }
        }

        mutating func record(unresolved key: EdgeKey, _ connection: ObservedConnection) {
            var edge = unresolved[key] ?? ResolvedEdge(client: key.client, server: key.server, port: key.port, transport: key.transport, flows: 0,
                                                       firstSeen: connection.firstSeen, lastSeen: connection.lastSeen)
            edge.flows += connection.flows
            edge.firstSeen = min(edge.firstSeen, connection.firstSeen)
            edge.lastSeen = max(edge.lastSeen, connection.lastSeen)
            unresolved[key] = edge
        }

        mutating func record(denial verdict: PolicyEvaluator.Verdict, _ key: EdgeKey, port: Int?) {
            var finding = findings[key] ?? Finding(edge: ResolvedEdge(client: key.client, server: key.server, port: key.port, transport: key.transport, flows: 0),
                                                   port: port, connections: 0, deniedBy: [], ingressPolicies: [], egressPolicies: [])
            finding.connections += 1
            if finding.port == nil { finding.port = port }
            if !verdict.ingressAdmits, !finding.deniedBy.contains(.ingress) { finding.deniedBy.insert(.ingress, at: 0) }
            if !verdict.egressAdmits, !finding.deniedBy.contains(.egress) { finding.deniedBy.append(.egress) }
            if finding.ingressPolicies != verdict.ingressPolicies { finding.ingressPolicies = Array(Set(finding.ingressPolicies + verdict.ingressPolicies)).sorted() }
            if finding.egressPolicies != verdict.egressPolicies { finding.egressPolicies = Array(Set(finding.egressPolicies + verdict.egressPolicies)).sorted() }
            findings[key] = finding
        }

        func report() -> Report {
            var report = Report(connections: count, edges: edges.count, denied: [], accepted: [], unresolved: unresolved.values.sorted(), unusedAllowEntries: [])
            var used = Set<Int>()
            for (key, var finding) in findings {
                finding.edge = edges[key] ?? finding.edge
                if let entry = check.allowList.entry(accepting: key.client, key.server, port: finding.port, transport: key.transport) {
                    finding.acceptedBy = entry
                    used.insert(entry.line)
                    report.accepted.append(finding)
                } else {
                    report.denied.append(finding)
                }
            }
            report.unusedAllowEntries = check.allowList.entries.filter { !used.contains($0.line) }
            report.denied.sort { $0.edge < $1.edge }
            report.accepted.sort { $0.edge < $1.edge }
            return report
        }
    }
}
