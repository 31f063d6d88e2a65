import DataTree
import Foundation
import Testing

/// `netwatch flows diff` as a reviewer runs it: two observation sets cut from the policy-check
/// fixture (connections 1-10 before, 4-14 after), the fixture's cluster and policies as
/// manifests; text, JSON, and the drawing through Graphviz.
@Suite("netwatch flows diff", .serialized)
struct FlowDiffCommandTests {
    @Test("added, removed and unchanged edges; would-deny marked from the policies; DOT and SVG colour each kind")
    func diff() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dot") else { throw TestFailure("/usr/bin/dot is missing; run hack/setup (make test does)") }
        let fixtures = PolicyCheckCommandTests.fixtures
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-flows-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = try String(contentsOfFile: fixtures + "/flows.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 14)
        try (lines[0..<10].joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("before.jsonl"), atomically: true, encoding: .utf8)
        try (lines[3..<14].joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("after.jsonl"), atomically: true, encoding: .utf8)
        let arguments = ["flows", "diff", "--before", dir.appendingPathComponent("before.jsonl").path, "--after", dir.appendingPathComponent("after.jsonl").path,
                         "--manifests", fixtures + "/cluster.yaml", fixtures + "/policies.yaml"]

        let text = try CommandLineTests().run(arguments + ["--dot", dir.appendingPathComponent("diff.dot").path, "--svg", dir.appendingPathComponent("diff.svg").path])
        #expect(text.status == 0, "\(text.stderr)")
        let output = text.stdout.split(separator: "\n").map(String.init)
        #expect(output.first == "netwatch flows diff: 4 edge(s) added, 2 removed, 7 unchanged; 7 the policies would deny")
        // Connections 11-14 are new; the UDP one is allowed, the others would be denied.
        #expect(output.contains("+ Deployment ops/probe → Deployment ops/scanner on 161/UDP (3 flow(s))"))
        #expect(output.contains("+ Deployment ops/probe → Deployment ops/scanner on 161/TCP (3 flow(s)) — the policies would deny it"))
        // Connections 1-3 are gone: web → api through the Service (its named targetPort) and direct on 9080.
        #expect(output.contains("- Deployment shop/web → Deployment shop/api on http/TCP (3 flow(s) before)"))
        #expect(output.contains("- Deployment shop/web → Deployment shop/api on 9080/TCP (6 flow(s) before)"))

        let json = try CommandLineTests().run(arguments + ["--format", "json"])
        let document = try JSONReader().read(Array(json.stdout.utf8))
        #expect(document["summary"] == ["added": 4, "removed": 2, "unchanged": 7])
        #expect(document["added"]?.sequence?.filter { $0["wouldDeny"] == .bool(true) }.count == 3)

        let dot = try String(contentsOf: dir.appendingPathComponent("diff.dot"), encoding: .utf8)
        let edges = dot.split(separator: "\n").filter { $0.contains(" -> ") }
        #expect(edges.count == 13)
        #expect(edges.filter { $0.contains("color=green3") }.count == 1)
        #expect(edges.filter { $0.contains("color=grey60") }.count == 2)
        #expect(edges.filter { $0.contains("color=red") }.count == 7)
        let svg = try String(contentsOf: dir.appendingPathComponent("diff.svg"), encoding: .utf8)
        #expect(svg.components(separatedBy: "class=\"edge\"").count - 1 == 13)
        #expect(svg.contains("stroke=\"#00cd00\""), "green3, the added edge")
        #expect(svg.contains("stroke=\"#999999\""), "grey60, the removed edges")
        #expect(svg.contains("stroke=\"red\""))

        let bad = try CommandLineTests().run(arguments + ["--svg", dir.appendingPathComponent("x.svg").path])
        #expect(bad.status == 2 && bad.stderr.contains("--svg needs --dot"))
    }
}
