public import DataTree
public import KubeModel

/// An observed connection in workload terms: who talked to whom, on which server port.
public struct ResolvedEdge: Sendable, Hashable, Comparable {
    public var client: Peer
    public var server: Peer
    /// The port the server's pod listens on (a Service's targetPort, by name when it is named).
    public var port: IntOrString
    public var transport: ObservedConnection.Transport
    public var flows: Int
    /// When the first and last connection of this edge were seen (epoch milliseconds).
    public var firstSeen: Int64
    public var lastSeen: Int64

    public init(client: Peer, server: Peer, port: IntOrString, transport: ObservedConnection.Transport, flows: Int, firstSeen: Int64 = 0, lastSeen: Int64 = 0) {
        self.client = client
        self.server = server
        self.port = port
        self.transport = transport
        self.flows = flows
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }

    /// The same edge whatever its counts and times.
    public var identity: ResolvedEdge {
        ResolvedEdge(client: client, server: server, port: port, transport: transport, flows: 0)
    }

    public static func < (lhs: ResolvedEdge, rhs: ResolvedEdge) -> Bool {
        (lhs.client, lhs.server, lhs.port.sortKey, lhs.transport) < (rhs.client, rhs.server, rhs.port.sortKey, rhs.transport)
    }
}

extension IntOrString {
    /// Numbers before names, numbers in numeric order.
    public var sortKey: String {
        switch self {
        case .int(let value): "0:" + String(repeating: "0", count: max(0, 5 - String(value).count)) + String(value)
        case .string(let name): "1:" + name
        }
    }

    public var node: Node {
        switch self {
        case .int(let value): .int(value)
        case .string(let name): .string(name)
        }
    }
}

/// Least-privilege NetworkPolicies from resolved edges: one per workload.
///
/// Guarantees: deterministic (names, rule order, peer order and port order are sorted); a
/// workload's policy allows exactly what was observed to and from it, plus DNS (to kube-dns /
/// CoreDNS pods and the configured resolver addresses, UDP and TCP 53); pods are selected by
/// their workload's `spec.selector` (never by volatile labels such as pod-template-hash);
/// both policy types are set, so the workload is isolated both ways; peers outside the cluster
/// become /32 (/128) ipBlocks, grouped to /24 (/64) above `groupingThreshold` addresses.
public struct PolicyGenerator: Sendable {
    public var selectors: [WorkloadReference: [String: String]]
    public var dnsResolvers: [IPAddress]
    public var groupingThreshold: Int
    /// Namespaces whose workloads never get a policy (they still appear as peers): isolating
    /// the control plane or netwatch itself from what a learning window happened to see is
    /// how outages start.
    public var excludedNamespaces: Set<String>
    /// Allow DNS egress whether observed or not.
    public var allowsDNS: Bool

    public init(selectors: [WorkloadReference: [String: String]], dnsResolvers: [IPAddress] = [], groupingThreshold: Int = 50,
                excludedNamespaces: Set<String> = ["kube-system", "kube-public", "kube-node-lease"], allowsDNS: Bool = true) {
        self.selectors = selectors
        self.dnsResolvers = dnsResolvers
        self.groupingThreshold = groupingThreshold
        self.excludedNamespaces = excludedNamespaces
        self.allowsDNS = allowsDNS
    }

    /// What a chosen subject gets besides its observed traffic.
    public struct Subject: Sendable, Hashable {
        /// Ingress rules allowed whatever was observed (netwatch's own companions: Prometheus
        /// scraping, the injected exporter, the API server calling a webhook).
        public var companions: [Node]
        /// Annotations added to its policy (learning window, phase).
        public var annotations: [String: String]

        public init(companions: [Node] = [], annotations: [String: String] = [:]) {
            self.companions = companions
            self.annotations = annotations
        }
    }

    /// Labels never used to select pods: they change with every rollout or identify one pod.
    public static let volatileLabels: Set<String> = [
        "pod-template-hash", "controller-revision-hash", "pod-template-generation", "statefulset.kubernetes.io/pod-name",
        "controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name",
        "app.kubernetes.io/version", "version", "helm.sh/chart", "app.kubernetes.io/managed-by",
    ]

    /// The selector of each workload: its `spec.selector.matchLabels` (CronJob: the job
    /// template's pod labels), else its pods' labels without the volatile ones.
    public static func selectors(pods: [Pod], workloads: [Workload], resolver: (Pod) -> WorkloadReference) -> [WorkloadReference: [String: String]] {
        var result: [WorkloadReference: [String: String]] = [:]
        for workload in workloads {
            let reference = WorkloadReference(namespace: workload.metadata.namespace ?? "default", kind: workload.kind, name: workload.metadata.name)
            result[reference] = workload.matchLabels ?? workload.template.metadata.labels.filter { !volatileLabels.contains($0.key) }
        }
        for pod in pods {
            let reference = resolver(pod)
            if result[reference] == nil { result[reference] = pod.metadata.labels.filter { !volatileLabels.contains($0.key) } }
        }
        return result
    }

    /// Adds selectors for workloads the snapshot does not know, from the pod labels their flow
    /// source reported (Hubble), volatile labels removed. A known `spec.selector` always wins.
    public static func addingReported(_ connections: [ObservedConnection], to selectors: [WorkloadReference: [String: String]]) -> [WorkloadReference: [String: String]] {
        var result = selectors
        for connection in connections {
            for case .workload(let workload, let labels)? in [connection.clientIdentity, connection.serverIdentity] where result[workload] == nil && !workload.kind.isEmpty {
                let stable = labels.filter { !volatileLabels.contains($0.key) }
                if !stable.isEmpty { result[workload] = stable }
            }
        }
        return result
    }

    /// One NetworkPolicy per workload that appears in `edges`, sorted by namespace and name;
    /// with `subjects`, one per subject instead (observed or not: a workload nothing talked to
    /// gets its companions and DNS only), each with its companions and annotations.
    public func policies(_ edges: [ResolvedEdge], subjects chosen: [WorkloadReference: Subject]? = nil) -> [Node] {
        var ingress: [WorkloadReference: [Peer: Set<PortKey>]] = [:]
        var egress: [WorkloadReference: [Peer: Set<PortKey>]] = [:]
        var counts: [WorkloadReference: Int] = [:]
        for edge in edges {
            let port = PortKey(port: edge.port, transport: edge.transport)
            if case .workload(let server) = edge.server, selectors[server] != nil {
                ingress[server, default: [:]][edge.client, default: []].insert(port)
                counts[server, default: 0] += edge.flows
            }
            if case .workload(let client) = edge.client, selectors[client] != nil {
                egress[client, default: [:]][edge.server, default: []].insert(port)
                counts[client, default: 0] += edge.flows
            }
        }
        let subjects = (chosen.map { Set($0.keys.filter { selectors[$0] != nil }) } ?? Set(ingress.keys).union(egress.keys))
            .filter { !excludedNamespaces.contains($0.namespace) }.sorted()
        return subjects.map { subject in
            policy(for: subject, ingress: ingress[subject] ?? [:], egress: egress[subject] ?? [:], flows: counts[subject] ?? 0, extras: chosen?[subject] ?? Subject())
        }
    }

    struct PortKey: Hashable, Comparable {
        var port: IntOrString
        var transport: ObservedConnection.Transport
        static func < (lhs: PortKey, rhs: PortKey) -> Bool { (lhs.transport, lhs.port.sortKey) < (rhs.transport, rhs.port.sortKey) }
        var node: Node { ["port": port.node, "protocol": .string(transport.rawValue)] }
    }

    static func labelMap(_ labels: [String: String]) -> Node {
        .mapping(Mapping(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    }

    /// The `from`/`to` entries for a peer, seen from a policy in `namespace`.
    func peerEntries(_ peers: [Peer], namespace: String) -> [Node] {
        var entries: [Node] = []
        var addresses: [IPAddress] = []
        var hosts: [IPAddress] = []
        for peer in peers {
            switch peer {
            case .workload(let workload):
                guard let selector = selectors[workload] else { continue }
                var entry = Mapping()
                if workload.namespace != namespace {
                    entry["namespaceSelector"] = ["matchLabels": ["kubernetes.io/metadata.name": .string(workload.namespace)]]
                }
                entry["podSelector"] = ["matchLabels": Self.labelMap(selector)]
                if !entries.contains(.mapping(entry)) { entries.append(.mapping(entry)) }
            case .external(let address): addresses.append(address)
            case .node(_, let address), .apiServer(let address): hosts.append(address)
            case .service: break  // resolved to backends before policies are made
            }
        }
        // Many addresses of one peer kind are grouped to their /24 (/64).
        let grouped = addresses.count > groupingThreshold
        let blocks = Set(addresses.map { grouped ? "\($0.masked(to: $0.isIPv4 ? 24 : 64))/\($0.isIPv4 ? 24 : 64)" : "\($0)/\($0.hostPrefixLength)" })
            .union(hosts.map { "\($0)/\($0.hostPrefixLength)" })
        for block in blocks.sorted() { entries.append(["ipBlock": ["cidr": .string(block)]]) }
        return entries
    }

    func rules(_ peers: [Peer: Set<PortKey>], namespace: String, direction: String) -> [Node] {
        // One rule per distinct port set, listing every peer that used exactly those ports.
        var byPorts: [[PortKey]: [Peer]] = [:]
        for (peer, ports) in peers { byPorts[ports.sorted(), default: []].append(peer) }
        var rules: [(key: String, node: Node)] = []
        for (ports, group) in byPorts {
            let entries = peerEntries(group.sorted(), namespace: namespace)
            guard !entries.isEmpty else { continue }
            let rule: Node = [.init(stringLiteral: direction): .sequence(entries), "ports": .sequence(ports.map(\.node))]
            rules.append((String(decoding: JSONEmitter(style: .compact).emit(rule), as: UTF8.self), rule))
        }
        return rules.sorted { $0.key < $1.key }.map(\.node)
    }

    var dnsRule: Node {
        var to: [Node] = [[
            "namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": "kube-system"]],
            "podSelector": ["matchLabels": ["k8s-app": "kube-dns"]],
        ]]
        to += dnsResolvers.sorted().map { ["ipBlock": ["cidr": .string("\($0)/\($0.hostPrefixLength)")]] }
        return ["to": .sequence(to), "ports": [["port": 53, "protocol": "UDP"], ["port": 53, "protocol": "TCP"]]]
    }

    public static func name(for workload: WorkloadReference) -> String {
        let name = "\(workload.name)-\(workload.kind.lowercased())-flows"
        return name.count <= 253 ? name : String(name.prefix(253))
    }

    func policy(for subject: WorkloadReference, ingress: [Peer: Set<PortKey>], egress: [Peer: Set<PortKey>], flows: Int, extras: Subject) -> Node {
        let selector = selectors[subject] ?? [:]
        var spec = Mapping()
        spec["podSelector"] = ["matchLabels": Self.labelMap(selector)]
        spec["policyTypes"] = ["Ingress", "Egress"]
        var companions: [Node] = []
        for rule in extras.companions where !companions.contains(rule) { companions.append(rule) }
        spec["ingress"] = .sequence(rules(ingress, namespace: subject.namespace, direction: "from") + companions)
        spec["egress"] = .sequence(rules(egress, namespace: subject.namespace, direction: "to") + (allowsDNS ? [dnsRule] : []))
        var annotations = Mapping([("netwatch.dev/workload", .string(subject.description)), ("netwatch.dev/observed-flows", .string(String(flows)))])
        for (key, value) in extras.annotations.sorted(by: { $0.key < $1.key }) { annotations[key] = .string(value) }
        return [
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": [
                "name": .string(Self.name(for: subject)),
                "namespace": .string(subject.namespace),
                "labels": ["app.kubernetes.io/managed-by": "netwatch"],
                "annotations": .mapping(annotations),
            ],
            "spec": .mapping(spec),
        ]
    }
}

extension Peer: CustomStringConvertible {
    /// "Deployment shop/web", "Service shop/api", "node n1 (10.0.0.1)", "the API server (…)", or the address.
    public var description: String {
        switch self {
        case .workload(let workload): workload.description
        case .service(let namespace, let name): "Service \(namespace)/\(name)"
        case .node(let node, let address): node.isEmpty ? "node \(address)" : "node \(node) (\(address))"
        case .apiServer(let address): "the API server (\(address))"
        case .external(let address): "\(address)"
        }
    }
}

extension ResolvedEdge {
    /// "Deployment shop/web → StatefulSet shop/db on 5432/TCP", for messages and Events.
    public var summary: String {
        let port: String = switch self.port {
        case .int(let number): String(number)
        case .string(let named): named
        }
        return "\(client) → \(server) on \(port)/\(transport.rawValue)"
    }
}
