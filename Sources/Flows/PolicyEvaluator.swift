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

    /// An end made ready for many verdicts: the policies selecting it each way and its labels
    /// as the evaluator's label ids, computed once (see `prepare(_:)`).
    public final class PreparedEndpoint: Sendable {
        public let endpoint: Endpoint
        /// Indices of the policies selecting it for ingress, in input order.
        public let ingressPolicies: [Int]
        /// Indices of the policies selecting it for egress, in input order.
        public let egressPolicies: [Int]
        /// Its labels as `LabelHash`es, to look itself up in indexed rules.
        let labelHashes: [UInt64]

        init(endpoint: Endpoint, ingressPolicies: [Int], egressPolicies: [Int], labelHashes: [UInt64]) {
            self.endpoint = endpoint
            self.ingressPolicies = ingressPolicies
            self.egressPolicies = egressPolicies
            self.labelHashes = labelHashes
        }
    }

    public let policies: [Node]
    let compiled: [CompiledNetworkPolicy]
    /// Indices of the policies of each namespace: a connection is judged by its ends' namespaces only.
    let byNamespace: [String: [Int]]

    public init(policies: [Node]) {
        self.policies = policies
        // Learned policies can list thousands of peers each: compiled on all cores.
        let chunks = policies.count < 64 ? 1 : 16
        let compiled = inParallel(chunks) { chunk in
            policies[(policies.count * chunk / chunks)..<(policies.count * (chunk + 1) / chunks)].map(CompiledNetworkPolicy.init)
        }.flatMap { $0 }
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
        verdict(from: prepare(client), to: prepare(server), port: port, transport: transport)
    }

    /// `endpoint` ready for many verdicts; what it computes depends only on the endpoint, so a
    /// caller keeps one per pod or workload.
    public func prepare(_ endpoint: Endpoint) -> PreparedEndpoint {
        PreparedEndpoint(endpoint: endpoint, ingressPolicies: selecting(endpoint, for: .ingress), egressPolicies: selecting(endpoint, for: .egress),
                         labelHashes: endpoint.labels.map { LabelHash.of($0.key, $0.value) })
    }

    public func verdict(from client: PreparedEndpoint, to server: PreparedEndpoint, port: Int, transport: ObservedConnection.Transport) -> Verdict {
        Verdict(
            ingressAdmits: admits(server.ingressPolicies, direction: .ingress, peer: client, port: port, transport: transport, portOwner: server.endpoint),
            egressAdmits: admits(client.egressPolicies, direction: .egress, peer: server, port: port, transport: transport, portOwner: server.endpoint),
            ingressPolicies: server.ingressPolicies, egressPolicies: client.egressPolicies)
    }

    /// Whether the server's ingress (or the client's egress) admits the connection.
    func admits(from client: PreparedEndpoint, to server: PreparedEndpoint, _ direction: Direction, port: Int, transport: ObservedConnection.Transport) -> Bool {
        direction == .ingress
            ? admits(server.ingressPolicies, direction: .ingress, peer: client, port: port, transport: transport, portOwner: server.endpoint)
            : admits(client.egressPolicies, direction: .egress, peer: server, port: port, transport: transport, portOwner: server.endpoint)
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

    func admits(_ selecting: [Int], direction: Direction, peer: PreparedEndpoint, port: Int, transport: ObservedConnection.Transport, portOwner: Endpoint) -> Bool {
        if selecting.isEmpty { return true }
        for index in selecting where compiled[index].admits(direction, peer: peer, port: port, transport: transport, portOwner: portOwner) { return true }
        return false
    }
}
