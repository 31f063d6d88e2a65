import DataTree
import Flows
import Testing

/// A rule with many peers is matched through a label index (learned policies list every
/// observed peer in one rule). By additivity, a rule with peers P1…Pn is the union of rules with
/// one peer each, which are never indexed: the two evaluators must agree on every connection.
@Suite("NetworkPolicy evaluation: the peer index agrees with one rule per peer")
struct PolicyEvaluatorIndexTests {
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let keys = ["app", "tier", "team", "version"]
    static let values = ["a", "b", "c", "d", "e"]

    static func selector(_ random: inout Random) -> Node {
        var selector = Mapping()
        var labels = Mapping()
        for key in keys where Int.random(in: 0..<3, using: &random) == 0 { labels[key] = .string(values.randomElement(using: &random)!) }
        if !labels.isEmpty { selector["matchLabels"] = .mapping(labels) }
        if Int.random(in: 0..<4, using: &random) == 0 {
            let op = ["In", "NotIn", "Exists", "DoesNotExist"].randomElement(using: &random)!
            var expression = Mapping()
            expression["key"] = .string(keys.randomElement(using: &random)!)
            expression["operator"] = .string(op)
            if op == "In" || op == "NotIn" { expression["values"] = .sequence(values.shuffled(using: &random).prefix(2).map { .string($0) }) }
            selector["matchExpressions"] = [.mapping(expression)]
        }
        return .mapping(selector)
    }

    static func peer(_ random: inout Random) -> Node {
        switch Int.random(in: 0..<5, using: &random) {
        case 0: return ["ipBlock": ["cidr": .string("10.0.\(Int.random(in: 0..<4, using: &random)).0/24"), "except": [.string("10.0.1.128/25")]]]
        case 1: return ["namespaceSelector": selector(&random)]
        case 2: return ["namespaceSelector": selector(&random), "podSelector": selector(&random)]
        default: return ["podSelector": selector(&random)]
        }
    }

    static func policy(name: String, peers: [Node], port: Int) -> Node {
        ["metadata": ["name": .string(name), "namespace": "ns-a"],
         "spec": ["podSelector": [:], "policyTypes": ["Ingress"], "ingress": [["from": .sequence(peers), "ports": [["port": .int(port)]]]]]]
    }

    static func endpoint(_ random: inout Random) -> PolicyEvaluator.Endpoint {
        if Int.random(in: 0..<6, using: &random) == 0 {
            return PolicyEvaluator.Endpoint(namespace: nil, address: .v4(0x0A00_0000 + UInt32.random(in: 0..<1024, using: &random)))
        }
        var labels: [String: String] = [:], namespaceLabels: [String: String] = [:]
        for key in keys where Bool.random(using: &random) { labels[key] = values.randomElement(using: &random)! }
        for key in keys where Bool.random(using: &random) { namespaceLabels[key] = values.randomElement(using: &random)! }
        return PolicyEvaluator.Endpoint(namespace: ["ns-a", "ns-b"].randomElement(using: &random)!, labels: labels, namespaceLabels: namespaceLabels,
                                        address: .v4(0x0A00_0000 + UInt32.random(in: 0..<1024, using: &random)))
    }

    @Test("400 random rules of 9-40 peers against 20 random clients each")
    func agree() {
        var random = Random(state: 20_261_208)
        var disagreements: [String] = []
        var allowed = 0
        for round in 0..<400 {
            let peers = (0..<Int.random(in: 9...40, using: &random)).map { _ in Self.peer(&random) }
            let indexed = PolicyEvaluator(policies: [Self.policy(name: "many", peers: peers, port: 80)])
            let split = PolicyEvaluator(policies: peers.enumerated().map { Self.policy(name: "one-\($0.offset)", peers: [$0.element], port: 80) })
            let server = PolicyEvaluator.Endpoint(namespace: "ns-a", address: .v4(0x0A09_0909))
            for _ in 0..<20 {
                let client = Self.endpoint(&random)
                let a = indexed.allows(from: client, to: server, port: 80, transport: .tcp), b = split.allows(from: client, to: server, port: 80, transport: .tcp)
                if a { allowed += 1 }
                if a != b, disagreements.count < 5 { disagreements.append("round \(round): \(client) indexed \(a), split \(b)") }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements)")
        #expect(allowed > 800 && allowed < 7_200, "the generator should give both outcomes often: \(allowed) of 8,000 allowed")
    }
}
