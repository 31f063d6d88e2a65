import DataTree

/// A NetworkPolicy read once into what evaluation needs, so judging a connection never walks
/// the document again. Anything malformed (an unknown selector operator, a CIDR that does not
/// parse, a port that is neither a number nor a name) compiles to something that matches
/// nothing: a broken rule never opens traffic.
///
/// The compiled parts are immutable classes: evaluation reads them in place, where structs
/// holding arrays and dictionaries would be copied (and reference-counted field by field) at
/// every access.
final class CompiledNetworkPolicy: Sendable {
    let namespace: String
    let name: String
    let podSelector: CompiledSelector
    let affectsIngress: Bool
    let affectsEgress: Bool
    let ingress: [CompiledRule]
    let egress: [CompiledRule]

    init(_ policy: Node) {
        namespace = policy["metadata"]?["namespace"]?.string ?? "default"
        name = policy["metadata"]?["name"]?.string ?? ""
        let spec = policy["spec"]
        podSelector = spec?["podSelector"].map(CompiledSelector.init) ?? .everything
        let types: Set<String>
        if let listed = spec?["policyTypes"]?.sequence {
            types = Set(listed.compactMap(\.string))
        } else {
            // Kubernetes' defaulting (SetDefaults_NetworkPolicy): Ingress always, Egress when the
            // egress list is non-empty — `egress: []` alone does not make a policy affect egress.
            types = spec?["egress"]?.sequence?.isEmpty == false ? ["Ingress", "Egress"] : ["Ingress"]
        }
        affectsIngress = types.contains("Ingress")
        affectsEgress = types.contains("Egress")
        ingress = (spec?["ingress"]?.sequence ?? []).map { CompiledRule($0, peersKey: "from") }
        egress = (spec?["egress"]?.sequence ?? []).map { CompiledRule($0, peersKey: "to") }
    }

    /// Whether some rule for `direction` admits `peer` on `port` (named ports resolved on `portOwner`, the destination).
    func admits(_ direction: PolicyEvaluator.Direction, peer: PolicyEvaluator.PreparedEndpoint, port: Int, transport: ObservedConnection.Transport,
                portOwner: PolicyEvaluator.Endpoint) -> Bool {
        for rule in direction == .ingress ? ingress : egress
        where rule.matchesPort(port, transport: transport, on: portOwner) && rule.matchesPeer(peer, policyNamespace: namespace) {
            return true
        }
        return false
    }
}

/// A label `key=value` as a 64-bit FNV-1a hash: what indexed rules look peers up by, computed
/// without shared state so policies compile in parallel. Two pairs with one hash only make a
/// lookup check an extra peer, which is then matched in full.
enum LabelHash {
    static func of(_ key: String, _ value: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        hash = (hash ^ 0x3D) &* 0x100_0000_01B3  // "="
        for byte in value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}

/// One ingress or egress rule: peers and ports, each nil when absent or empty (= all).
final class CompiledRule: Sendable {
    let peers: [CompiledPeer]?
    let ports: [CompiledPort]?
    /// For rules with many peers (learned policies list every observed peer in one rule): the
    /// peers by the hash of one label their podSelector requires, so a pod is checked only
    /// against peers that can select it, and the peers without such a label.
    let index: (byLabel: [UInt64: [Int]], unanchored: [Int])?

    static let indexedPeers = 8

    init(_ rule: Node, peersKey: String) {
        let peers = (rule[peersKey]?.sequence ?? []).map(CompiledPeer.init)
        self.peers = peers.isEmpty ? nil : peers
        let ports = rule["ports"]?.sequence ?? []
        self.ports = ports.isEmpty ? nil : ports.map(CompiledPort.init)
        guard peers.count > Self.indexedPeers else { index = nil; return }
        var byLabel: [UInt64: [Int]] = [:], unanchored: [Int] = []
        for (position, peer) in peers.enumerated() {
            if case .pods(_, let selector?) = peer, selector.valid, let anchor = selector.required.first, let value = anchor.value {
                byLabel[LabelHash.of(anchor.key, value), default: []].append(position)
            } else {
                unanchored.append(position)
            }
        }
        index = (byLabel, unanchored)
    }

    func matchesPeer(_ prepared: PolicyEvaluator.PreparedEndpoint, policyNamespace: String) -> Bool {
        guard let peers else { return true }
        guard let index else { return peers.contains { $0.matches(prepared.endpoint, policyNamespace: policyNamespace) } }
        if prepared.endpoint.namespace != nil {
            for id in prepared.labelHashes {
                if let candidates = index.byLabel[id], candidates.contains(where: { peers[$0].matches(prepared.endpoint, policyNamespace: policyNamespace) }) {
                    return true
                }
            }
        }
        return index.unanchored.contains { peers[$0].matches(prepared.endpoint, policyNamespace: policyNamespace) }
    }

    func matchesPort(_ port: Int, transport: ObservedConnection.Transport, on owner: PolicyEvaluator.Endpoint) -> Bool {
        guard let ports else { return true }
        return ports.contains { $0.matches(port, transport: transport, on: owner) }
    }
}

/// A NetworkPolicyPeer.
enum CompiledPeer: Sendable {
    /// ipBlock: in `cidr` and in none of `except`; nil CIDR when it did not parse.
    case addresses(cidr: CIDR?, except: [CIDR])
    /// Pods: namespaceSelector nil means the policy's own namespace; podSelector nil means all pods.
    case pods(namespaceSelector: CompiledSelector?, podSelector: CompiledSelector?)

    init(_ entry: Node) {
        if let block = entry["ipBlock"] {
            self = .addresses(cidr: block["cidr"]?.string.flatMap(CIDR.init),
                              except: (block["except"]?.sequence ?? []).compactMap { $0.string.flatMap(CIDR.init) })
        } else {
            self = .pods(namespaceSelector: entry["namespaceSelector"].map(CompiledSelector.init), podSelector: entry["podSelector"].map(CompiledSelector.init))
        }
    }

    func matches(_ peer: PolicyEvaluator.Endpoint, policyNamespace: String) -> Bool {
        switch self {
        case .addresses(let cidr, let except):
            guard let cidr, cidr.contains(peer.address) else { return false }
            return !except.contains { $0.contains(peer.address) }
        case .pods(let namespaceSelector, let podSelector):
            guard let namespace = peer.namespace else { return false }  // selectors select pods only
            if let namespaceSelector {
                guard namespaceSelector.matches(peer.namespaceLabels) else { return false }
            } else if namespace != policyNamespace {
                return false
            }
            return podSelector?.matches(peer.labels) ?? true
        }
    }
}

/// A NetworkPolicyPort: protocol (default TCP), and a port number, range or name (nil = all).
struct CompiledPort: Sendable {
    enum Port: Sendable {
        case all
        case range(ClosedRange<Int>)
        case named(String)
        case invalid
    }

    /// nil for a protocol other than TCP, UDP and SCTP: it matches no connection.
    var transport: ObservedConnection.Transport?
    var port: Port

    init(_ entry: Node) {
        transport = ObservedConnection.Transport(rawValue: entry["protocol"]?.string ?? "TCP")
        switch entry["port"] {
        case nil: port = .all
        case .int(let number)?:
            if case .int(let end)? = entry["endPort"] { port = .range(number...max(number, end)) } else { port = .range(number...number) }
        case .string(let name)?: port = .named(name)
        default: port = .invalid
        }
    }

    func matches(_ number: Int, transport: ObservedConnection.Transport, on owner: PolicyEvaluator.Endpoint) -> Bool {
        guard self.transport == transport else { return false }
        switch port {
        case .all: return true
        case .range(let range): return range.contains(number)
        case .named(let name): return owner.namedPorts[name] == number
        case .invalid: return false
        }
    }
}

/// A LabelSelector: matchLabels and matchExpressions, ANDed; empty selects everything.
final class CompiledSelector: Sendable {
    enum Operator: Sendable { case `in`, notIn, exists, doesNotExist }

    let required: [(key: String, value: String?)]
    let expressions: [(key: String, operator: Operator, values: Set<String>)]
    /// False when the selector could not be read: it then selects nothing.
    let valid: Bool

    static let everything = CompiledSelector(required: [], expressions: [], valid: true)

    init(required: [(key: String, value: String?)], expressions: [(key: String, operator: Operator, values: Set<String>)], valid: Bool) {
        self.required = required
        self.expressions = expressions
        self.valid = valid
    }

    convenience init(_ selector: Node) {
        var required: [(key: String, value: String?)] = []
        var expressions: [(key: String, operator: Operator, values: Set<String>)] = []
        if case .mapping(let labels)? = selector["matchLabels"] {
            for entry in labels { required.append((entry.key, entry.value.string)) }
        }
        for expression in selector["matchExpressions"]?.sequence ?? [] {
            let values = Set(expression["values"]?.sequence?.compactMap(\.string) ?? [])
            let op: Operator? = switch expression["operator"]?.string {
            case "In": .in
            case "NotIn": .notIn
            case "Exists": .exists
            case "DoesNotExist": .doesNotExist
            default: nil
            }
            guard let key = expression["key"]?.string, let op else {
                self.init(required: [], expressions: [], valid: false)
                return
            }
            expressions.append((key, op, values))
        }
        self.init(required: required, expressions: expressions, valid: true)
    }

    func matches(_ labels: [String: String]) -> Bool {
        guard valid else { return false }
        for (key, value) in required where value == nil || labels[key] != value { return false }
        for (key, op, values) in expressions {
            let present = labels[key]
            switch op {
            case .in: if !(present.map(values.contains) ?? false) { return false }
            case .notIn: if present.map(values.contains) ?? false { return false }
            case .exists: if present == nil { return false }
            case .doesNotExist: if present != nil { return false }
            }
        }
        return true
    }
}

/// An address range in CIDR notation, masked once.
struct CIDR: Sendable, Hashable {
    var network: IPAddress
    var prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPAddress(parts[0]), let bits = Int(parts[1]), (0...address.hostPrefixLength).contains(bits) else { return nil }
        self.init(network: address, prefixLength: bits)
    }

    init(network: IPAddress, prefixLength: Int) {
        self.network = network.masked(to: prefixLength)
        self.prefixLength = prefixLength
    }

    func contains(_ address: IPAddress) -> Bool {
        address.isIPv4 == network.isIPv4 && address.masked(to: prefixLength) == network
    }
}
