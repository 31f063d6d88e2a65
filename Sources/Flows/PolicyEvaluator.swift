public import DataTree

/// Evaluates Kubernetes NetworkPolicy semantics (networking.k8s.io/v1) for one connection:
/// the proof that generated policies allow what was observed and deny the rest, the engine of
/// audit mode (connections proposed policies would deny) and of `netwatch policy check`.
///
/// Semantics: a pod is isolated for a direction when a policy in its namespace selects it and
/// lists that policy type (unset policyTypes: Ingress, plus Egress when the egress list is
/// non-empty); an isolated pod admits a connection only if some rule of some selecting policy
/// matches it (peers: podSelector within the policy's namespace, namespaceSelector
/// [+ podSelector, ANDed], ipBlock with except; absent or empty peers and ports match all;
/// ports: number, endPort range, named container port of the destination pod, or absent = all;
/// protocol defaults to TCP). A connection is allowed when the client's egress and the
/// server's ingress both admit it. Policies are compiled once; a malformed selector or CIDR
/// selects nothing rather than everything.
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

    public enum Direction: String, Sendable, Hashable, CaseIterable {
        case ingress = "Ingress", egress = "Egress"
    }

    /// The outcome for one connection, with the policies that decided it.
    public struct Verdict: Sendable, Hashable {
        /// Whether the server's ingress admits the connection (true when nothing isolates it).
        public var ingressAdmits: Bool
        public var egressAdmits: Bool
        /// Indices into `policies` of those selecting the server for ingress, in input order.
        public var ingressPolicies: [Int]
        /// Indices into `policies` of those selecting the client for egress, in input order.
        public var egressPolicies: [Int]

        public var allowed: Bool { ingressAdmits && egressAdmits }
    }

    public let policies: [Node]
    let compiled: [CompiledNetworkPolicy]
    /// Indices of the policies of each namespace: a connection is judged by its ends' namespaces only.
    let byNamespace: [String: [Int]]

    public init(policies: [Node]) {
        self.policies = policies
        let compiled = policies.map(CompiledNetworkPolicy.init)
        self.compiled = compiled
        byNamespace = Dictionary(grouping: compiled.indices) { compiled[$0].namespace }
    }

    /// The namespace and name of policy `index`.
    public func name(of index: Int) -> (namespace: String, name: String) {
        (compiled[index].namespace, compiled[index].name)
    }

    public func allows(from client: Endpoint, to server: Endpoint, port: Int, transport: ObservedConnection.Transport) -> Bool {
        verdict(from: client, to: server, port: port, transport: transport).allowed
    }

    public func verdict(from client: Endpoint, to server: Endpoint, port: Int, transport: ObservedConnection.Transport) -> Verdict {
        verdict(from: client, selectingClient: selecting(client, for: .egress), to: server, selectingServer: selecting(server, for: .ingress),
                port: port, transport: transport)
    }

    /// The verdict when the caller already knows which policies select each end (from
    /// `selecting(_:for:)`, which depends only on the end's namespace and labels and so can be
    /// kept per pod or workload).
    public func verdict(from client: Endpoint, selectingClient: [Int], to server: Endpoint, selectingServer: [Int],
                        port: Int, transport: ObservedConnection.Transport) -> Verdict {
        Verdict(
            ingressAdmits: admits(selectingServer, direction: .ingress, peer: client, port: port, transport: transport, portOwner: server),
            egressAdmits: admits(selectingClient, direction: .egress, peer: server, port: port, transport: transport, portOwner: server),
            ingressPolicies: selectingServer, egressPolicies: selectingClient)
    }

    /// Indices of the policies that select `subject` for `direction`, in input order; empty
    /// for an end that is not a pod.
    public func selecting(_ subject: Endpoint, for direction: Direction) -> [Int] {
        guard let namespace = subject.namespace else { return [] }
        return (byNamespace[namespace] ?? []).filter { index in
            let policy = compiled[index]
            return (direction == .ingress ? policy.affectsIngress : policy.affectsEgress) && policy.podSelector.matches(subject.labels)
        }
    }

    func admits(_ selecting: [Int], direction: Direction, peer: Endpoint, port: Int, transport: ObservedConnection.Transport, portOwner: Endpoint) -> Bool {
        if selecting.isEmpty { return true }
        for index in selecting {
            let policy = compiled[index]
            for rule in direction == .ingress ? policy.ingress : policy.egress
            where rule.matchesPeer(peer, policyNamespace: policy.namespace) && rule.matchesPort(port, transport: transport, on: portOwner) {
                return true
            }
        }
        return false
    }
}
