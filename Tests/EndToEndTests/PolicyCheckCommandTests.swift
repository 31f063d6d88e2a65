import DataTree
import Foundation
import Testing

/// `netwatch policy check` as a CI job runs it, on hand-written policies that each exercise one
/// NetworkPolicy rule (Tests/Fixtures/policy-check: the cluster, the policies, 14 recorded
/// connections each commented with its expected verdict, an allow list).
@Suite("netwatch policy check", .serialized)
struct PolicyCheckCommandTests {
    static let fixtures = CommandLineTests.root.appendingPathComponent("Tests/Fixtures/policy-check").path
    static let arguments = ["policy", "check", "--flows", fixtures + "/flows.jsonl", "--manifests", fixtures + "/cluster.yaml", fixtures + "/policies.yaml"]

    struct Denial: Hashable, CustomStringConvertible {
        var client: String
        var server: String
        var port: Int
        var transport: String
        var deniedBy: [String]
        var description: String { "\(client) → \(server) \(port)/\(transport) by \(deniedBy)" }
    }

    static func denials(_ entries: Node?) -> Set<Denial> {
        Set((entries?.sequence ?? []).map { entry in
            func end(_ node: Node?) -> String { node?["name"]?.string.map { "\(node?["namespace"]?.string ?? "")/\($0)" } ?? node?["address"]?.string ?? "?" }
            guard case .int(let port)? = entry["port"] else { return Denial(client: "?", server: "?", port: -1, transport: "", deniedBy: []) }
            return Denial(client: end(entry["client"]), server: end(entry["server"]), port: port, transport: entry["protocol"]?.string ?? "",
                          deniedBy: entry["deniedBy"]?.sequence?.compactMap(\.string) ?? [])
        })
    }

    @Test("every rule's denials are found, none of the allowed connections is; exit 1; allow list accepts one and reports a stale entry")
    func rules() throws {
        let result = try CommandLineTests().run(Self.arguments + ["--allow-list", Self.fixtures + "/allow-list.txt", "--format", "json"])
        #expect(result.status == 1, "\(result.stderr)")
        let report = try JSONReader().read(Array(result.stdout.utf8))
        let expected: Set<Denial> = [
            // A named port is resolved on the pod that received the connection: 9080 is api-b's http, not api-a's.
            Denial(client: "shop/web", server: "shop/api", port: 9080, transport: "TCP", deniedBy: ["Ingress"]),
            // endPort: 9000-9100 inclusive.
            Denial(client: "ops/probe", server: "shop/api", port: 9101, transport: "TCP", deniedBy: ["Ingress"]),
            // namespaceSelector AND podSelector in one peer: the right namespace is not enough.
            Denial(client: "ops/scanner", server: "shop/api", port: 9050, transport: "TCP", deniedBy: ["Ingress"]),
            // podSelector {} selects the policy's own namespace only; policyTypes [Egress] without rules denies all egress.
            Denial(client: "jobs/batch", server: "shop/db", port: 5432, transport: "TCP", deniedBy: ["Ingress", "Egress"]),
            // ipBlock except, and outside the CIDR.
            Denial(client: "shop/web", server: "203.0.113.200", port: 443, transport: "TCP", deniedBy: ["Egress"]),
            Denial(client: "shop/web", server: "198.51.100.7", port: 443, transport: "TCP", deniedBy: ["Egress"]),
            // protocol: the rule names UDP; TCP to the same port is refused.
            Denial(client: "ops/probe", server: "ops/scanner", port: 161, transport: "TCP", deniedBy: ["Ingress"]),
        ]
        #expect(Self.denials(report["denied"]) == expected)
        #expect(Self.denials(report["accepted"]) == [Denial(client: "jobs/batch", server: "198.51.100.7", port: 443, transport: "TCP", deniedBy: ["Egress"])])
        #expect(report["accepted"]?.sequence?.first?["allowListLine"] == .int(2))
        #expect(report["unusedAllowEntries"]?.sequence?.first?["line"] == .int(4))
        #expect(report["summary"]?["connections"] == .int(14))
        // web → api on 9080: two connections (to api-a and api-b), only the one to api-a denied.
        let web = report["denied"]?.sequence?.first { $0["client"]?["name"] == "web" && $0["port"] == .int(9080) }
        #expect(web?["deniedConnections"] == .int(1))
        // The policies in force on both ends, with where they were read.
        let batch = report["denied"]?.sequence?.first { $0["client"]?["name"] == "batch" }
        #expect(batch?["ingressPolicies"]?.sequence?.first?["name"] == "db-from-shop")
        #expect(batch?["egressPolicies"]?.sequence?.first?["name"] == "jobs-no-egress")
        #expect(batch?["egressPolicies"]?.sequence?.first?["file"]?.string?.hasSuffix("policies.yaml") == true)
    }

    @Test("text groups denials by the namespace whose policies refuse them; GitHub annotations point at the refusing policy's line")
    func formats() throws {
        let text = try CommandLineTests().run(Self.arguments)
        #expect(text.status == 1)
        #expect(text.stdout.hasPrefix("netwatch policy check: 8 of 13 observed edge(s) (14 connection(s)) would be denied"), "\(text.stdout)")
        #expect(text.stdout.contains("namespace ops\n") && text.stdout.contains("namespace shop\n"))
        #expect(text.stdout.contains("DENIED Deployment jobs/batch → Deployment shop/db on 5432/TCP: refused by ingress of Deployment shop/db and egress of Deployment jobs/batch"))

        let github = try CommandLineTests().run(Self.arguments + ["--format", "github"])
        #expect(github.status == 1)
        let errors = github.stdout.split(separator: "\n").filter { $0.hasPrefix("::error ") }
        #expect(errors.count == 8)
        let policies = try String(contentsOfFile: Self.fixtures + "/policies.yaml", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let snmp = errors.first { $0.contains("ops/scanner on 161/TCP") }
        let line = snmp.flatMap { $0.split(separator: ",").first { $0.hasPrefix("line=") } }.flatMap { Int($0.dropFirst(5)) }
        #expect(snmp?.contains("file=\(Self.fixtures)/policies.yaml") == true)
        // The annotation's line is the first line of the scanner-snmp document.
        #expect(line.map { policies[$0 - 1] == "apiVersion: networking.k8s.io/v1" && policies[$0 + 1].contains("scanner-snmp") } == true, "\(snmp ?? "")")
        #expect(github.stdout.contains("::notice title=netwatch policy check::8 of 13"))
    }

    @Test("an allow list accepting every denial passes (exit 0); a bad allow list is refused with its line and column (exit 2)")
    func exits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-policy-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "* -> * *\n".write(to: dir.appendingPathComponent("all.txt"), atomically: true, encoding: .utf8)
        let clean = try CommandLineTests().run(Self.arguments + ["--allow-list", dir.appendingPathComponent("all.txt").path])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.hasPrefix("netwatch policy check: 0 of 13"))

        try "jobs/batch -> world 443/TCP\nshop/web => shop/api\nshop/web -> shop/api 70000\n".write(to: dir.appendingPathComponent("bad.txt"), atomically: true, encoding: .utf8)
        let bad = try CommandLineTests().run(Self.arguments + ["--allow-list", dir.appendingPathComponent("bad.txt").path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.txt:2:1: expected CLIENT -> SERVER"), "\(bad.stderr)")
        #expect(bad.stderr.contains("bad.txt:3:22: port must be"), "\(bad.stderr)")

        let none = try CommandLineTests().run(["policy", "check", "--flows", Self.fixtures + "/cluster.yaml", "--manifests", Self.fixtures + "/policies.yaml"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("no observed connections"))
    }
}
