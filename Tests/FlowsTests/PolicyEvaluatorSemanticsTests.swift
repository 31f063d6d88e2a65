import DataTree
import Flows
import Foundation
import Testing
import YAML

/// PolicyEvaluator against the rules of the Kubernetes API reference for NetworkPolicy
/// (networking.k8s.io/v1: NetworkPolicySpec, NetworkPolicyIngressRule/EgressRule,
/// NetworkPolicyPeer, NetworkPolicyPort, IPBlock, LabelSelector) and its defaulting
/// (pkg/apis/networking/v1/defaults.go), one row per rule, the rule quoted or paraphrased.
@Suite("NetworkPolicy semantics, rule by rule from the Kubernetes API reference")
struct PolicyEvaluatorSemanticsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var rule: String
        var policies: String
        var client: PolicyEvaluator.Endpoint
        var server: PolicyEvaluator.Endpoint
        var port: Int
        var transport: ObservedConnection.Transport = .tcp
        var allowed: Bool
        var testDescription: String { rule }
    }

    static func pod(_ namespace: String, _ labels: [String: String], _ address: String, namespaceLabels: [String: String] = [:], ports: [String: Int] = [:]) -> PolicyEvaluator.Endpoint {
        PolicyEvaluator.Endpoint(namespace: namespace, labels: labels, namespaceLabels: namespaceLabels, address: IPAddress(address)!, namedPorts: ports)
    }

    static func outside(_ address: String) -> PolicyEvaluator.Endpoint {
        PolicyEvaluator.Endpoint(namespace: nil, address: IPAddress(address)!)
    }

    static let web = pod("shop", ["app": "web"], "10.0.0.5", namespaceLabels: ["team": "shop"])
    static let api = pod("shop", ["app": "api"], "10.0.0.6", namespaceLabels: ["team": "shop"], ports: ["http": 8080])
    static let batch = pod("jobs", ["app": "batch"], "10.0.1.7", namespaceLabels: ["team": "data"])

    /// A policy in `shop` selecting app=api, with `spec` appended.
    static func policy(_ spec: String, selector: String = "{matchLabels: {app: api}}", namespace: String = "shop") -> String {
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p, namespace: \(namespace)}
        spec:
          podSelector: \(selector)
        \(spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    static let cases: [Case] = [
        Case(rule: "a pod no policy selects is not isolated: everything is allowed",
             policies: "", client: web, server: api, port: 8080, allowed: true),
        Case(rule: "policyTypes unset: every policy affects ingress; with no ingress rules it allows nothing (isolation only)",
             policies: policy(""), client: web, server: api, port: 8080, allowed: false),
        Case(rule: "spec.podSelector {} selects every pod in the policy's namespace",
             policies: policy("policyTypes: [Ingress]", selector: "{}"), client: web, server: api, port: 8080, allowed: false),
        Case(rule: "a policy selects pods of its own namespace only",
             policies: policy("policyTypes: [Ingress]", selector: "{}", namespace: "jobs"), client: web, server: api, port: 8080, allowed: true),
        Case(rule: "defaulting adds Egress only when the egress list is non-empty: egress: [] alone leaves egress open",
             policies: policy("egress: []", selector: "{matchLabels: {app: web}}"), client: web, server: api, port: 8080, allowed: true),
        Case(rule: "policyTypes [Egress] with no egress rules denies all egress of the selected pods",
             policies: policy("policyTypes: [Egress]", selector: "{matchLabels: {app: web}}"), client: web, server: api, port: 8080, allowed: false),
        Case(rule: "a rule with from and ports absent matches all sources on all ports",
             policies: policy("ingress: [{}]"), client: batch, server: api, port: 1234, allowed: true),
        Case(rule: "from: [] (empty) matches all sources, as absent does",
             policies: policy("ingress: [{from: []}]"), client: batch, server: api, port: 8080, allowed: true),
        Case(rule: "a podSelector peer alone selects pods in the policy's namespace only",
             policies: policy("ingress: [{from: [{podSelector: {matchLabels: {app: batch}}}]}]"), client: batch, server: api, port: 8080, allowed: false),
        Case(rule: "namespaceSelector and podSelector in one peer: pods matching both (AND)",
             policies: policy("ingress: [{from: [{namespaceSelector: {matchLabels: {team: data}}, podSelector: {matchLabels: {app: batch}}}]}]"),
             client: batch, server: api, port: 8080, allowed: true),
        Case(rule: "namespaceSelector and podSelector in one peer: a pod of the namespace without the labels is not selected",
             policies: policy("ingress: [{from: [{namespaceSelector: {matchLabels: {team: data}}, podSelector: {matchLabels: {app: other}}}]}]"),
             client: batch, server: api, port: 8080, allowed: false),
        Case(rule: "two peers are ORed: namespaceSelector in one, podSelector in another",
             policies: policy("ingress: [{from: [{namespaceSelector: {matchLabels: {team: data}}}, {podSelector: {matchLabels: {app: nope}}}]}]"),
             client: batch, server: api, port: 8080, allowed: true),
        Case(rule: "namespaceSelector {} selects pods in all namespaces",
             policies: policy("ingress: [{from: [{namespaceSelector: {}}]}]"), client: batch, server: api, port: 8080, allowed: true),
        Case(rule: "every namespace carries kubernetes.io/metadata.name, so it can be selected by name",
             policies: policy("ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: jobs}}}]}]"),
             client: batch, server: api, port: 8080, allowed: true),
        Case(rule: "matchExpressions NotIn: a pod without the key matches",
             policies: policy("ingress: [{from: [{podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}}]}]"),
             client: web, server: api, port: 8080, allowed: true),
        Case(rule: "matchLabels and matchExpressions are ANDed",
             policies: policy("ingress: [{from: [{podSelector: {matchLabels: {app: web}, matchExpressions: [{key: tier, operator: Exists}]}}]}]"),
             client: web, server: api, port: 8080, allowed: false),
        Case(rule: "ipBlock: addresses in the CIDR are allowed",
             policies: policy("ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}]}]"), client: outside("203.0.113.9"), server: api, port: 8080, allowed: true),
        Case(rule: "ipBlock except: addresses in an excepted CIDR are not",
             policies: policy("ingress: [{from: [{ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.0/28]}}]}]"), client: outside("203.0.113.9"), server: api, port: 8080, allowed: false),
        Case(rule: "selectors select pods, never addresses outside the cluster",
             policies: policy("ingress: [{from: [{namespaceSelector: {}}]}]"), client: outside("203.0.113.9"), server: api, port: 8080, allowed: false),
        Case(rule: "ports: protocol defaults to TCP, so a UDP connection to the port does not match",
             policies: policy("ingress: [{ports: [{port: 8080}]}]"), client: web, server: api, port: 8080, transport: .udp, allowed: false),
        Case(rule: "ports: an entry without port matches every port of its protocol",
             policies: policy("ingress: [{ports: [{protocol: UDP}]}]"), client: web, server: api, port: 53, transport: .udp, allowed: true),
        Case(rule: "endPort: the range port..endPort inclusive",
             policies: policy("ingress: [{ports: [{port: 8000, endPort: 8080}]}]"), client: web, server: api, port: 8080, allowed: true),
        Case(rule: "endPort: outside the range is not matched",
             policies: policy("ingress: [{ports: [{port: 8000, endPort: 8080}]}]"), client: web, server: api, port: 8081, allowed: false),
        Case(rule: "a named port is resolved on the destination pod's container ports",
             policies: policy("ingress: [{ports: [{port: http}]}]"), client: web, server: api, port: 8080, allowed: true),
        Case(rule: "a named port the destination pod does not declare matches nothing",
             policies: policy("ingress: [{ports: [{port: metrics}]}]"), client: web, server: api, port: 8080, allowed: false),
        Case(rule: "egress: a named port is resolved on the destination pod, not the selected source",
             policies: policy("policyTypes: [Egress]\negress: [{ports: [{port: http}]}]", selector: "{matchLabels: {app: web}}"), client: web, server: api, port: 8080, allowed: true),
        Case(rule: "both directions: the client's egress and the server's ingress must each admit the connection",
             policies: policy("policyTypes: [Egress]\negress: [{to: [{podSelector: {matchLabels: {app: db}}}]}]", selector: "{matchLabels: {app: web}}"),
             client: web, server: api, port: 8080, allowed: false),
        Case(rule: "policies are additive: any rule of any selecting policy admits",
             policies: policy("ingress: [{from: [{podSelector: {matchLabels: {app: nope}}}]}]") + "\n---\n" + policy("ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]").replacingFirst("name: p", "name: q"),
             client: web, server: api, port: 8080, allowed: true),
    ]

    @Test("each rule", arguments: cases)
    func rule(_ row: Case) throws {
        let documents = try YAMLParser().parse(row.policies, file: "policies.yaml").compactMap { $0.node }.filter { $0 != .null }
        let evaluator = PolicyEvaluator(policies: documents)
        #expect(evaluator.allows(from: row.client, to: row.server, port: row.port, transport: row.transport) == row.allowed, "\(row.rule)")
    }
}

extension String {
    /// This string with the first occurrence of `target` replaced.
    fileprivate func replacingFirst(_ target: String, _ replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
