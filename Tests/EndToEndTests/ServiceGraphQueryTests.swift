import Foundation
import Testing

/// The service-graph preset's node-graph queries, taken from the rendered sample dashboard and
/// run by Prometheus's own engine (`promtool test rules` with `promql_expr_test`) over flow edges
/// as the operator exports them and Istio's request metrics: one merged graph, coloured by state.
@Suite("Service graph dashboard queries", .serialized)
struct ServiceGraphQueryTests {
    static let golden = CommandLineTests.root.appendingPathComponent("Tests/ConfigGenTests/Golden/samples/monitoring/main/grafana/nw-64d06ee54c78620a.json")

    /// The expressions of the panel titled `title`, with `$namespace` and `$__rate_interval` as Grafana would substitute them.
    static func expressions(_ title: String) throws -> [String] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: golden)) as? [String: Any])
        let panel = try #require((json["panels"] as? [[String: Any]])?.first { $0["title"] as? String == title && $0["type"] as? String != "row" })
        return ((panel["targets"] as? [[String: Any]]) ?? []).compactMap { $0["expr"] as? String }.map {
            $0.replacingOccurrences(of: "$__rate_interval", with: "5m").replacingOccurrences(of: "$namespace", with: "shop")
        }
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    @Test("nodes and edges of both sources; Istio wins a shared edge or node; would-deny red, failing orange, the rest green; other namespaces and _other left out; the 5xx table lists edges with errors")
    func graph() throws {
        let graph = try Self.expressions("Service graph"), errors = try Self.expressions("Edges: 5xx ratio")
        #expect(graph.count == 2 && errors.count == 1)
        func flow(_ src: String, _ dst: String, _ port: Int, perMinute: Int, namespace: String = "shop", dstNamespace: String = "shop") -> String {
            """
                  - series: 'netwatch_flow_edge_connections_total{instance="op",src_namespace="\(namespace)",src_workload="\(src)",dst_namespace="\(dstNamespace)",dst_workload="\(dst)",port="\(port)",protocol="TCP"}'
                    values: '0+\(perMinute)x15'
            """
        }
        func istio(_ src: String, _ dst: String, code: Int, perMinute: Int) -> String {
            """
                  - series: 'istio_requests_total{reporter="source",source_workload_namespace="shop",source_canonical_service="\(src)",destination_service_namespace="shop",destination_canonical_service="\(dst)",response_code="\(code)"}'
                    values: '0+\(perMinute)x15'
            """
        }
        // The sample stack loads the flows pack, so the dashboard reads its recording rule: Prometheus computes it here too.
        let rules = CommandLineTests.root.appendingPathComponent("Tests/ConfigGenTests/Golden/samples/monitoring/main/prometheus/rules/monitoring_network.yml").path
        #expect(graph[1].contains("edge:netwatch_flow_edge_connections:rate5m"))
        let tests = """
            rule_files: [\(Self.quoted(rules))]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
            \(flow("web", "db", 5432, perMinute: 60))
            \(flow("web", "cart", 8080, perMinute: 120))
                  - series: 'netwatch_flow_edge_would_deny{instance="op",src_namespace="shop",src_workload="web",dst_namespace="shop",dst_workload="cart",port="8080",protocol="TCP"}'
                    values: '1x15'
            \(flow("web", "world", 443, perMinute: 60, dstNamespace: ""))
            \(flow("frontend", "api", 8080, perMinute: 600))
            \(flow("x", "y", 80, perMinute: 60, namespace: "team", dstNamespace: "team"))
            \(flow("_other", "_other", 0, perMinute: 600, dstNamespace: "_other"))
            \(istio("frontend", "cart", code: 200, perMinute: 54))
            \(istio("frontend", "cart", code: 503, perMinute: 6))
            \(istio("frontend", "api", code: 200, perMinute: 60))
                promql_expr_test:
                  - expr: \(Self.quoted(graph[1]))
                    eval_time: 10m
                    exp_samples:
                      - {labels: '{id="shop/web -> shop/cart",source="shop/web",target="shop/cart",color="red"}', value: 2}
                      - {labels: '{id="shop/frontend -> shop/cart",source="shop/frontend",target="shop/cart",color="orange"}', value: 1}
                      - {labels: '{id="shop/frontend -> shop/api",source="shop/frontend",target="shop/api",color="green"}', value: 1}
                      - {labels: '{id="shop/web -> shop/db",source="shop/web",target="shop/db",color="green"}', value: 1}
                      - {labels: '{id="shop/web -> /world",source="shop/web",target="/world",color="green"}', value: 1}
                  - expr: \(Self.quoted(graph[0]))
                    eval_time: 10m
                    exp_samples:
                      - {labels: '{id="shop/frontend"}', value: 2}
                      - {labels: '{id="shop/api"}', value: 10}
                      - {labels: '{id="shop/cart"}', value: 2}
                      - {labels: '{id="shop/db"}', value: 1}
                      - {labels: '{id="/world"}', value: 1}
                      - {labels: '{id="shop/web"}', value: 4}
                  - expr: \(Self.quoted(errors[0]))
                    eval_time: 10m
                    exp_samples:
                      - {labels: '{id="shop/frontend -> shop/cart",source="shop/frontend",target="shop/cart",color="orange"}', value: 0.1}
            """
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-graph-queries-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("graph_test.yml")
        try tests.write(to: file, atomically: true, encoding: .utf8)
        let result = try CommandLineTests.execute("/usr/bin/promtool", ["test", "rules", file.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}
