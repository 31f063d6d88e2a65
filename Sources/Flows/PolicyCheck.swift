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
        judge.reserve(connections.count)
        for connection in connections { judge.add(connection) }
        judge.evaluate()
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

    /// A workload edge in the run's own numbering: peers by id, the observed server port as a
    /// number (≥ 0) or a named port's id (< 0).
    struct EdgeKey: Hashable {
        var client: Int32
        var server: Int32
        var port: Int32
        var transport: ObservedConnection.Transport
    }

    /// One (client end, server end, port) to judge, for edge `edge`. Sorted by server end so
    /// that a server's policies stay in cache while its callers are judged, and repeats (the
    /// same ends and port again, as with workloads known only by their template) are adjacent
    /// and judged once.
    struct Pending {
        var server: Int32
        var client: Int32
        var port: Int32
        var transport: ObservedConnection.Transport
        var edge: Int32
        /// Bit 0: the server's ingress refuses; bit 1: the client's egress refuses.
        var denials: UInt8 = 0

        var sameVerdict: (Int32, Int32, Int32, ObservedConnection.Transport) { (server, client, port, transport) }
    }

    /// The ends a peer stands for: usually one (a pod, an address), without allocating.
    enum Ends {
        case one(Int32)
        case many([Int32])

        func forEach(_ body: (Int32) -> Void) {
            switch self {
            case .one(let end): body(end)
            case .many(let ends): for end in ends { body(end) }
            }
        }
    }

    struct Tally {
        var flows: Int
        var firstSeen: Int64
        var lastSeen: Int64

        mutating func add(_ connection: ObservedConnection) {
            flows += connection.flows
            firstSeen = min(firstSeen, connection.firstSeen)
            lastSeen = max(lastSeen, connection.lastSeen)
        }
    }

    /// The state of one run. Connections are first resolved, numbering everything they touch
    /// once — peers, ends (prepared with the policies selecting them), named ports, edges — into
    /// pending (client end, server end, port) judgements; those are then sorted and judged on
    /// all cores, each distinct one once, and the denials folded into findings.
    struct Judge {
        let check: PolicyCheck
        var peers: [Peer] = []
        var peerIDs: [Peer: Int32] = [:]
        var ends: [PolicyEvaluator.PreparedEndpoint] = []
        var endIDs: [End: Int32] = [:]
        /// Per pod (by index): its peer id and its end id at its first-seen address, or -1.
        var podPeer: [Int32]
        var podEnd: [Int32]
        var podEndAddress: [IPAddress?]
        var portNames: [String] = []
        var portNameIDs: [String: Int32] = [:]
        var pending: [Pending] = []
        /// By the Service's peer id; nil for a Service the input does not resolve (asked once).
        var backends: [Int32: (service: Service, backends: [(peer: Int32, end: Int32)])?] = [:]
        var edgeIDs: [EdgeKey: Int32] = [:]
        var edgeKeys: [EdgeKey] = []
        var tallies: [Tally] = []
        var findings: [Int32: Finding] = [:]
        var unresolved: [EdgeKey: Tally] = [:]
        var count = 0

        init(check: PolicyCheck) {
            self.check = check
            podPeer = Array(repeating: -1, count: check.pods.count)
            podEnd = Array(repeating: -1, count: check.pods.count)
            podEndAddress = Array(repeating: nil, count: check.pods.count)
        }

        mutating func reserve(_ connections: Int) {
            edgeIDs.reserveCapacity(connections)
            edgeKeys.reserveCapacity(connections)
            tallies.reserveCapacity(connections)
            pending.reserveCapacity(connections)
        }

        mutating func peerID(_ peer: Peer) -> Int32 {
            if let id = peerIDs[peer] { return id }
            peers.append(peer)
            peerIDs[peer] = Int32(peers.count - 1)
            return Int32(peers.count - 1)
        }

        mutating func endID(_ end: End) -> Int32 {
            if let id = endIDs[end] { return id }
            let endpoint: PolicyEvaluator.Endpoint = switch end {
            case .pod(let index, let address): check.endpoints.endpoint(of: check.pods[index], at: address)
            case .variant(let workload, let index): check.endpoints.endpoints(of: .workload(workload))[index]
            case .address(let address): PolicyEvaluator.Endpoint(namespace: nil, address: address)
            }
            ends.append(check.evaluator.prepare(endpoint))
            endIDs[end] = Int32(ends.count - 1)
            return Int32(ends.count - 1)
        }

        mutating func podPeerID(_ index: Int) -> Int32 {
            if podPeer[index] < 0 { podPeer[index] = peerID(.workload(check.resolver.workload(of: check.pods[index]))) }
            return podPeer[index]
        }

        mutating func podEndID(_ index: Int, _ address: IPAddress) -> Int32 {
            if podEnd[index] >= 0, podEndAddress[index] == address { return podEnd[index] }
            let id = endID(.pod(index, address))
            if podEnd[index] < 0 { podEnd[index] = id; podEndAddress[index] = address }
            return id
        }

        /// An address at a time as a peer and the ends it stands for: the pod that held it (when
        /// that pod belongs to the workload a source reported, if it reported one), else the
        /// workload's variants, else the address itself.
        mutating func resolve(_ address: IPAddress, reported: ReportedIdentity?, at time: Int64) -> (peer: Peer, id: Int32, ends: Ends) {
            let pod = check.resolver.podIndex(at: address, time: time)
            switch reported {
            case nil, .world?:
                if let pod { let id = podPeerID(pod); return (peers[Int(id)], id, .one(podEndID(pod, address))) }
            default: break
            }
            let peer = check.resolver.resolve(address, reported: reported, at: time)
            let id = peerID(peer)
            guard case .workload(let workload) = peer else { return (peer, id, .one(endID(.address(address)))) }
            if let pod, podPeerID(pod) == id { return (peer, id, .one(podEndID(pod, address))) }
            return (peer, id, .many(check.endpoints.endpoints(of: peer).indices.map { endID(.variant(workload, $0)) }))
        }

        /// A Service's backends: its selected pods, else the workloads whose template it selects; nil when unknown.
        mutating func backends(_ peer: Int32, _ namespace: String, _ name: String) -> (service: Service, backends: [(peer: Int32, end: Int32)])? {
            if let known = backends[peer] { return known }
            guard let service = check.services.first(where: { ($0.metadata.namespace ?? "default") == namespace && $0.metadata.name == name }),
                  let selector = service.spec.selector, !selector.isEmpty else {
                backends[peer] = .some(nil)
                return nil
            }
            var found: [(peer: Int32, end: Int32)] = []
            var covered = Set<Int32>()
            for (index, pod) in check.pods.enumerated()
            where (pod.metadata.namespace ?? "default") == namespace && !pod.spec.hostNetwork && selector.allSatisfy({ pod.metadata.labels[$0.key] == $0.value }) {
                let peer = podPeerID(index)
                covered.insert(peer)
                found.append((peer, podEndID(index, pod.status.primaryIP.flatMap { IPAddress($0) } ?? ObservedConnection.Key.unknownAddress)))
            }
            for workload in check.resolver.workloads(selectedBy: selector, in: namespace) {
                let peer = peerID(.workload(workload))
                guard !covered.contains(peer) else { continue }
                for index in check.endpoints.endpoints(of: .workload(workload)).indices { found.append((peer, endID(.variant(workload, index)))) }
            }
            backends[peer] = (service, found)
            return (service, found)
        }

        mutating func portCode(_ port: IntOrString) -> Int32 {
            switch port {
            case .int(let number): return Int32(clamping: number)
            case .string(let name):
                if let id = portNameIDs[name] { return id }
                portNames.append(name)
                portNameIDs[name] = -Int32(portNames.count)
                return -Int32(portNames.count)
            }
        }

        func portLabel(_ code: Int32) -> IntOrString { code >= 0 ? .int(Int(code)) : .string(portNames[Int(-code) - 1]) }

        /// The port number a port code means on an end: a name resolved on the end's pod.
        func portNumber(_ code: Int32, on end: Int32) -> Int? {
            code >= 0 ? Int(code) : ends[Int(end)].endpoint.namedPorts[portNames[Int(-code) - 1]]
        }

        mutating func add(_ connection: ObservedConnection) {
            count += 1
            let key = connection.key, time = connection.firstSeen
            let client = resolve(key.client, reported: connection.clientIdentity, at: time)
            let server = resolve(key.server, reported: connection.serverIdentity, at: time)
            if case .service(let namespace, let name) = server.peer {
                guard let (service, backends) = backends(server.id, namespace, name) else {
                    if key.serverPort != 0 {
                        unresolved[EdgeKey(client: client.id, server: server.id, port: Int32(key.serverPort), transport: key.transport),
                                   default: Tally(flows: 0, firstSeen: .max, lastSeen: .min)].add(connection)
                    }
                    return
                }
                let servicePorts = (service.spec.ports ?? []).filter { ($0.protocol ?? "TCP") == key.transport.rawValue }
                let observed: [IntOrString] = key.serverPort == 0
                    ? servicePorts.map { $0.targetPort ?? .int($0.port) }
                    : [servicePorts.first { $0.port == Int(key.serverPort) }?.targetPort ?? .int(Int(key.serverPort))]
                for port in observed {
                    let code = portCode(port)
                    for backend in backends { judge(connection, client: client.id, clientEnds: client.ends, server: backend.peer, serverEnd: backend.end, port: code) }
                }
            } else if key.serverPort != 0 {  // "any port of the Service" means nothing without a Service
                server.ends.forEach { end in judge(connection, client: client.id, clientEnds: client.ends, server: server.id, serverEnd: end, port: Int32(key.serverPort)) }
            }
        }

        mutating func judge(_ connection: ObservedConnection, client: Int32, clientEnds: Ends, server: Int32, serverEnd: Int32, port code: Int32) {
            let transport = connection.key.transport
            let key = EdgeKey(client: client, server: server, port: code, transport: transport)
            let edge: Int32
            if let known = edgeIDs[key] {
                edge = known
            } else {
                edge = Int32(edgeKeys.count)
                edgeIDs[key] = edge
                edgeKeys.append(key)
                tallies.append(Tally(flows: 0, firstSeen: .max, lastSeen: .min))
            }
            tallies[Int(edge)].add(connection)
            let port = Int32(portNumber(code, on: serverEnd) ?? -1)
            clientEnds.forEach { pending.append(Pending(server: serverEnd, client: $0, port: port, transport: transport, edge: edge)) }
        }

        /// Judges every pending (client, server, port) and records the denials: the servers'
        /// ingress with the pending sorted by server, then the clients' egress sorted by client,
        /// so each pass reads one end's policies while they are in cache.
        mutating func evaluate() {
            pending.sort { ($0.server, $0.client, $0.port, $0.transport) < ($1.server, $1.client, $1.port, $1.transport) }
            judge(.ingress)
            pending.sort { ($0.client, $0.server, $0.port, $0.transport) < ($1.client, $1.server, $1.port, $1.transport) }
            judge(.egress)
            for item in pending where item.denials != 0 {
                record(denial: item.denials, item.edge, client: item.client, server: item.server, port: item.port < 0 ? nil : Int(item.port))
            }
            pending = []
        }

        /// One direction's verdict for every pending judgement, on all cores; adjacent repeats judged once.
        mutating func judge(_ direction: PolicyEvaluator.Direction) {
            let denied = Self.refusals(pending, ends: ends, evaluator: check.evaluator, direction)
            let bit: UInt8 = direction == .ingress ? 1 : 2
            var index = 0
            for chunk in denied {
                for refused in chunk {
                    if refused { pending[index].denials |= bit }
                    index += 1
                }
            }
        }

        /// Per chunk of `pending`, whether `direction` refuses each (a separate function, so
        /// that no copy of `pending` outlives it and the caller updates it in place).
        static func refusals(_ pending: [Pending], ends: [PolicyEvaluator.PreparedEndpoint], evaluator: PolicyEvaluator,
                             _ direction: PolicyEvaluator.Direction) -> [[Bool]] {
            let chunks = pending.count < 10_000 ? 1 : 8
            return inParallel(chunks) { chunk -> [Bool] in
                let range = (pending.count * chunk / chunks)..<(pending.count * (chunk + 1) / chunks)
                var result: [Bool] = []
                result.reserveCapacity(range.count)
                var previous: Pending?, last = false
                for item in pending[range] {
                    if let previous, previous.sameVerdict == item.sameVerdict { result.append(last); continue }
                    last = !evaluator.admits(from: ends[Int(item.client)], to: ends[Int(item.server)], direction, port: Int(item.port), transport: item.transport)
                    previous = item
                    result.append(last)
                }
                return result
            }
        }

        mutating func record(denial bits: UInt8, _ edge: Int32, client: Int32, server: Int32, port: Int?) {
            let key = edgeKeys[Int(edge)]
            var finding = findings[edge] ?? Finding(edge: ResolvedEdge(client: peers[Int(key.client)], server: peers[Int(key.server)], port: portLabel(key.port),
                                                                       transport: key.transport, flows: 0),
                                                    port: port, connections: 0, deniedBy: [], ingressPolicies: [], egressPolicies: [])
            finding.connections += 1
            if finding.port == nil { finding.port = port }
            if bits & 1 != 0, !finding.deniedBy.contains(.ingress) { finding.deniedBy.insert(.ingress, at: 0) }
            if bits & 2 != 0, !finding.deniedBy.contains(.egress) { finding.deniedBy.append(.egress) }
            let ingress = ends[Int(server)].ingressPolicies, egress = ends[Int(client)].egressPolicies
            if finding.ingressPolicies != ingress { finding.ingressPolicies = Array(Set(finding.ingressPolicies + ingress)).sorted() }
            if finding.egressPolicies != egress { finding.egressPolicies = Array(Set(finding.egressPolicies + egress)).sorted() }
            findings[edge] = finding
        }

        func edge(_ key: EdgeKey, _ tally: Tally) -> ResolvedEdge {
            ResolvedEdge(client: peers[Int(key.client)], server: peers[Int(key.server)], port: portLabel(key.port), transport: key.transport,
                         flows: tally.flows, firstSeen: tally.firstSeen, lastSeen: tally.lastSeen)
        }

        func report() -> Report {
            var report = Report(connections: count, edges: edgeKeys.count, denied: [], accepted: [],
                                unresolved: unresolved.map { edge($0.key, $0.value) }.sorted(), unusedAllowEntries: [])
            var used = Set<Int>()
            for (id, var finding) in findings {
                finding.edge = edge(edgeKeys[Int(id)], tallies[Int(id)])
                if let entry = check.allowList.entry(accepting: finding.edge.client, finding.edge.server, port: finding.port, transport: finding.edge.transport) {
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
