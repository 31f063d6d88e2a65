import Foundation
import Testing

/// `netwatch flows graph` as a user runs it: the sample cluster's flows drawn with Graphviz;
/// NetworkPolicies given as inputs are evaluated and the connections they would deny are red.
@Suite("Service graph from flows", .serialized)
struct ServiceGraphTests {
    @Test("policies rendered from all flows but one deny exactly that one, drawn red; dot renders the SVG")
    func graph() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dot") else { throw TestFailure("/usr/bin/dot is missing; run hack/setup (make test does)") }
        let samples = CommandLineTests.root.appendingPathComponent("manifests/samples").path
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-graph-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/partial", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // The samples without their flows, plus every flow but the one to the outside host.
        for file in try FileManager.default.contentsOfDirectory(atPath: samples) where file.hasSuffix(".yaml") {
            try FileManager.default.copyItem(atPath: samples + "/" + file, toPath: work + "/partial/" + file)
        }
        let flows = try String(contentsOfFile: samples + "/flows.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(flows.count == 4)
        try flows.filter { !$0.contains("203.0.113.10") }.joined(separator: "\n").write(toFile: work + "/partial/flows.jsonl", atomically: true, encoding: .utf8)
        try await offPool { try DashboardEndToEndTests.run([CommandLineTests.binary, "render", "--input", work + "/partial", "--output", work + "/out"]) }

        try await offPool { try DashboardEndToEndTests.run([CommandLineTests.binary, "flows", "graph", "--input", samples, work + "/out/networkpolicies",
                                                           "--output", work + "/graph.dot", "--svg", work + "/graph.svg"]) }
        let dot = try String(contentsOfFile: work + "/graph.dot", encoding: .utf8)
        let edges = dot.split(separator: "\n").filter { $0.contains(" -> ") }
        #expect(edges.count == 3)
        #expect(edges.filter { $0.contains("color=red") }.map { String($0) } == edges.filter { $0.contains("203.0.113.10") }.map { String($0) },
                "only the connection the policies never saw is denied: \(edges)")
        #expect(dot.contains("subgraph cluster_") && dot.contains("label=\"namespace shop\""))
        let svg = try String(contentsOfFile: work + "/graph.svg", encoding: .utf8)
        #expect(svg.contains("<svg") && svg.components(separatedBy: "class=\"edge\"").count - 1 == 3)
        #expect(svg.contains("stroke=\"red\""))
    }
}
