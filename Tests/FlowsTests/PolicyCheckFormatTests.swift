import DataTree
@testable import Flows
import Foundation
import KubeModel
import Testing

/// GitHub's runner reads `::error file=…,line=…,title=…::message`: properties end at `,` and the
/// message starts after `::`, and it unescapes `%25 %0D %0A` in the message and those plus
/// `%3A %2C` in property values (actions/runner ActionCommand, actions/toolkit command.ts).
/// Annotations with those characters in a file path, title or message must survive that reading.
@Suite("policy check: GitHub annotations")
struct PolicyCheckFormatTests {
    /// The runner's reading of one workflow command, written from its rules (not from ours).
    static func parse(_ line: Substring) -> (command: String, properties: [String: String], message: String)? {
        guard line.hasPrefix("::"), let end = line.dropFirst(2).range(of: "::") else { return nil }
        let head = line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]
        func unescape(_ text: Substring, property: Bool) -> String {
            var out = String(text).replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%0A", with: "\n")
            if property { out = out.replacingOccurrences(of: "%3A", with: ":").replacingOccurrences(of: "%2C", with: ",") }
            return out.replacingOccurrences(of: "%25", with: "%")
        }
        let parts = head.split(separator: " ", maxSplits: 1)
        var properties: [String: String] = [:]
        for pair in parts.count > 1 ? parts[1].split(separator: ",") : [] {
            let keyValue = pair.split(separator: "=", maxSplits: 1)
            guard keyValue.count == 2 else { return nil }
            properties[String(keyValue[0])] = unescape(keyValue[1], property: true)
        }
        return (String(parts[0]), properties, unescape(line[end.upperBound...], property: false))
    }

    @Test("a path with : and , and a policy and workload name with % come back exactly")
    func escaping() throws {
        let policy: Node = ["metadata": ["name": "100%-lockdown", "namespace": "shop"], "spec": ["podSelector": [:], "policyTypes": ["Ingress"]]]
        let evaluator = PolicyEvaluator(policies: [policy])
        let edge = ResolvedEdge(client: .workload(WorkloadReference(namespace: "shop", kind: "Deployment", name: "web")),
                                server: .workload(WorkloadReference(namespace: "shop", kind: "Deployment", name: "api")), port: .int(8080), transport: .tcp, flows: 3)
        let finding = PolicyCheck.Finding(edge: edge, port: 8080, connections: 1, deniedBy: [.ingress], ingressPolicies: [0], egressPolicies: [])
        let report = PolicyCheck.Report(connections: 1, edges: 1, denied: [finding], accepted: [], unresolved: [], unusedAllowEntries: [])
        let file = "/repo/a,b:c/100%/policies.yaml"
        let output = PolicyCheckFormat(report: report, evaluator: evaluator, sources: [SourceLocation(file: file, line: 7)]).githubAnnotations
        let lines = output.split(separator: "\n")
        #expect(lines.count == 2, "one line per command, whatever the message holds: \(output)")
        let error = try #require(Self.parse(lines[0]))
        #expect(error.command == "error")
        #expect(error.properties == ["file": file, "line": "7", "title": "NetworkPolicy would deny an observed connection"])
        #expect(error.message.contains("shop/100%-lockdown (\(file):7)"), "\(error.message)")
        #expect(error.message.hasPrefix("Deployment shop/web → Deployment shop/api on 8080/TCP is refused by ingress of Deployment shop/api."))
        #expect(Self.parse(lines[1])?.command == "notice")
    }
}
