import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeTesting
import Logging
import Testing

/// The live service graph end to end: the operator learns from a Hubble file against the test
/// API server and serves its flow-edge series on /metrics; a real Prometheus (Debian's) scrapes
/// it with the sample stack's rule files (so the flows pack's recording rule runs); the
/// service-graph dashboard's node-graph queries, as rendered for the samples, return the
/// graph — the learned edge green, the one the frozen policies would deny red.
@Suite("Service graph from flows against a real Prometheus", .serialized)
struct FlowGraphPrometheusTests {
    static let http = try! CurlTransport(logger: Logger(label: "test"))

    /// An instant query's result as (labels, value).
    static func query(_ expr: String, port: Int) async -> [([String: String], Double)]? {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        guard let encoded = expr.addingPercentEncoding(withAllowedCharacters: allowed),
              let response = try? await http.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/api/v1/query?query=\(encoded)", timeout: .seconds(5))),
              response.head.status == 200, let node = try? JSONReader().read(response.body) else { return nil }
        return (node["data"]?["result"]?.sequence ?? []).map { sample in
            (sample["metric"]?.stringValues ?? [:], Double(sample["value"]?.sequence?.last?.string ?? "") ?? .nan)
        }
    }

    @Test("the node graph's nodes and edges come back from Prometheus, coloured by state")
    func graph() async throws {
        let prometheusBinary = "/usr/bin/prometheus"
        #expect(FileManager.default.isExecutableFile(atPath: prometheusBinary), "run hack/setup: it installs Debian's prometheus")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-flow-graph-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let hubblePath = work + "/hubble.json"
        try FlowPolicyOperatorTests.hubble(("10.42.0.5", "web", "Deployment"), ("10.42.0.6", "db", "StatefulSet"), port: 5432)
            .write(toFile: hubblePath, atomically: true, encoding: .utf8)
        let metricsPort = freeLoopbackPort()
        let harness = try await OperatorHarness.start(objects: try FlowPolicyOperatorTests.objects(hubblePath: hubblePath), outputDirectory: work + "/out",
                                                      healthPort: metricsPort, flowInterval: .milliseconds(200))

        let rules = repositoryRoot.appendingPathComponent("Tests/ConfigGenTests/Golden/samples/monitoring/main/prometheus/rules/monitoring_network.yml").path
        let prometheusPort = freeLoopbackPort()
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            rule_files: ['\(rules)']
            scrape_configs:
            - job_name: netwatch
              static_configs: [{targets: ['127.0.0.1:\(metricsPort)']}]
            """.write(toFile: work + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: prometheusBinary)
        prometheus.arguments = ["--config.file=\(work)/prometheus.yml", "--storage.tsdb.path=\(work)/tsdb", "--web.listen-address=127.0.0.1:\(prometheusPort)"]
        prometheus.standardOutput = FileHandle.nullDevice
        prometheus.standardError = FileHandle.nullDevice
        try prometheus.run()
        defer { prometheus.terminate(); prometheus.waitUntilExit() }

        // Stable, then a connection first seen afterwards: its edge is marked would-deny.
        let client = harness.client
        #expect(try await eventually(timeout: .seconds(20)) {
            (try? await client.get(Node.self, FlowPolicyOperatorTests.flowPolicies, namespace: "shop", name: "learned")["status"]?["phase"]) == "Stable"
        })
        let handle = try #require(FileHandle(forWritingAtPath: hubblePath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(FlowPolicyOperatorTests.hubble(("10.42.0.5", "web", "Deployment"), ("10.42.0.7", "cart", "Deployment"), port: 8080).utf8))
        try handle.close()

        let panels = try ServiceGraphPanels()
        var edges: [([String: String], Double)] = []
        let arrived = try await eventually(timeout: .seconds(40)) {
            edges = await Self.query(panels.edges, port: prometheusPort) ?? []
            return edges.count == 2
        }
        #expect(arrived, "edges: \(edges)")
        let colours = Dictionary(edges.map { ($0.0["id"] ?? "?", $0.0["color"] ?? "?") }) { a, _ in a }
        #expect(colours == ["shop/web -> shop/db": "green", "shop/web -> shop/cart": "red"], "\(edges)")
        let nodes = await Self.query(panels.nodes, port: prometheusPort) ?? []
        #expect(Set(nodes.compactMap { $0.0["id"] }) == ["shop/web", "shop/db", "shop/cart"], "\(nodes)")
        await harness.stop()
    }
}

/// The service-graph panel's two queries from the rendered sample dashboard, as Grafana sends
/// them with `$namespace` = shop.
struct ServiceGraphPanels {
    var nodes: String
    var edges: String

    init() throws {
        let golden = repositoryRoot.appendingPathComponent("Tests/ConfigGenTests/Golden/samples/monitoring/main/grafana/nw-64d06ee54c78620a.json")
        let json = try JSONReader().read([UInt8](try Data(contentsOf: golden)))
        let panel = try #require(json["panels"]?.sequence?.first { $0["title"] == "Service graph" && $0["type"] != "row" })
        let expressions = (panel["targets"]?.sequence ?? []).compactMap { $0["expr"]?.string }
            .map { $0.replacingOccurrences(of: "$__rate_interval", with: "1m").replacingOccurrences(of: "$namespace", with: "shop") }
        try #require(expressions.count == 2)
        nodes = expressions[0]
        edges = expressions[1]
    }
}
