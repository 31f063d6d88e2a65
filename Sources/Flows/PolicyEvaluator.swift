public import DataTree

/// Evaluates Kubernetes NetworkPolicy semantics (networking.k8s.io/v1) for one connection:
/// the proof that generated policies allow what was observed and deny the rest, and the
/// engine of audit mode (connections proposed policies would deny).
///
/// Semantics: a pod is isolated for a direction when a policy in its namespace selects it and
/// lists that policy type; an isolated pod admits a connection only if some rule of some
/// selecting policy matches it (peers: podSelector within the policy's namespace,
/// namespaceSelector [+ podSelector], ipBlock with except; ports: number, named container port
/// or absent = all; protocol defaults to TCP). A connection is allowed when the client's
/// egress and the server's ingress both admit it.
public struct PolicyEvaluator: Sendable {
    /// One end of a connection: a pod (namespace, labels, named ports) or an address outside.
    public struct Endpoint: Sendable, Hashable {
        public var namespace: String?
        public var labels: [String: String]
        public var namespaceLabels: [String: String]
        public var address: IPAddress
        /// Named container ports of the pod: name → number.
        public var namedPorts: [String: Int]

        public init(namespace: String?, labels: [String: String] = [:], namespaceLabels: [String: String] = [:], address: IPAddress, namedPorts: [String: Int] = [:]) {
            self.namespace = namespace
            self.labels = labels
            self.namespaceLabels = namespace.map { namespaceLabels.merging(["kubernetes.io/metadata.name": $0]) { a, _ in a } } ?? namespaceLabels
            self.address = address
            self.namedPorts = namedPorts
        }
    }

    public let policies: [Node]
    /// The policies of each namespace: a connection is judged by its ends' namespaces only.
    let byNamespace: [String: [Node]]

    public init(policies: [Node]) {
        self.policies = policies
        byNamespace = Dictionary(grouping: policies) { $0["metadata"]?["namespace"]?.string ?? "default" }
    }

    public func allows(from client: Endpoint, to server: Endpoint, port: Int, transport: ObservedConnection.Transport) -> Bool {
        admits(server, direction: "Ingress", peer: client, port: port, transport: transport, portOwner: server)
            && admits(client, direction: "Egress", peer: server, port: port, transport: transport, portOwner: server)
    }

    func admits(_ subject: Endpoint, direction: String, peer: Endpoint, port: Int, transport: ObservedConnection.Transport, portOwner: Endpoint) -> Bool {
        guard let namespace = subject.namespace else { return true }  // not a pod: no policy applies
        let selecting = (byNamespace[namespace] ?? []).filter { policy in
            Self.matches(policy["spec"]?["podSelector"], subject.labels)
                && Self.types(of: policy).contains(direction)
        }
        if selecting.isEmpty { return true }
        let key = direction == "Ingress" ? "ingress" : "egress", peersKey = direction == "Ingress" ? "from" : "to"
        for policy in selecting {
            for rule in policy["spec"]?[key]?.sequence ?? [] {
                let peerMatches: Bool = {
                    guard let peers = rule[peersKey]?.sequence, !peers.isEmpty else { return true }
                    return peers.contains { Self.peerMatches($0, peer, policyNamespace: namespace) }
                }()
                let portMatches: Bool = {
                    guard let ports = rule["ports"]?.sequence, !ports.isEmpty else { return true }
                    return ports.contains { entry in
                        guard (entry["protocol"]?.string ?? "TCP") == transport.rawValue else { return false }
                        switch entry["port"] {
                        case nil: return true
                        case .int(let number)?:
                            if case .int(let end)? = entry["endPort"] { return (number...max(number, end)).contains(port) }
                            return number == port
                        case .string(let name)?: return portOwner.namedPorts[name] == port
                        default: return false
                        }
                    }
                }()
                if peerMatches && portMatches { return true }
            }
        }
        return false
    }

    static func types(of policy: Node) -> Set<String> {
        if let types = policy["spec"]?["policyTypes"]?.sequence { return Set(types.compactMap(\.string)) }
        // Kubernetes' defaulting (SetDefaults_NetworkPolicy): Ingress always, Egress when the
        // egress list is non-empty — `egress: []` alone does not make a policy affect egress.
        return policy["spec"]?["egress"]?.sequence?.isEmpty == false ? ["Ingress", "Egress"] : ["Ingress"]
    }

    static func peerMatches(_ entry: Node, _ peer: Endpoint, policyNamespace: String) -> Bool {
        if let block = entry["ipBlock"] {
            guard let cidr = block["cidr"]?.string, contains(cidr, peer.address) else { return false }
            return !(block["except"]?.sequence ?? []).contains { $0.string.map { contains($0, peer.address) } ?? false }
        }
        guard let namespace = peer.namespace else { return false }  // selectors select pods only
        if let namespaceSelector = entry["namespaceSelector"] {
            guard matches(namespaceSelector, peer.namespaceLabels) else { return false }
        } else if namespace != policyNamespace {
            return false
        }
        return entry["podSelector"].map { matches($0, peer.labels) } ?? true
    }

    /// A LabelSelector node against labels (matchLabels and matchExpressions; empty = all).
    static func matches(_ selector: Node?, _ labels: [String: String]) -> Bool {
        guard let selector else { return true }
        if case .mapping(let required)? = selector["matchLabels"] {
            for entry in required where labels[entry.key] != entry.value.string { return false }
        }
        for expression in selector["matchExpressions"]?.sequence ?? [] {
            guard let key = expression["key"]?.string else { return false }
            let values = Set(expression["values"]?.sequence?.compactMap(\.string) ?? [])
            switch expression["operator"]?.string {
            case "In": if !(labels[key].map(values.contains) ?? false) { return false }
            case "NotIn": if labels[key].map(values.contains) ?? false { return false }
            case "Exists": if labels[key] == nil { return false }
            case "DoesNotExist": if labels[key] != nil { return false }
            default: return false
            }
        }
        return true
    }

    static func contains(_ cidr: String, _ address: IPAddress) -> Bool {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let network = IPAddress(parts[0]), let bits = Int(parts[1]), network.isIPv4 == address.isIPv4 else { return false }
        return address.masked(to: bits) == network.masked(to: bits)
    }
}
