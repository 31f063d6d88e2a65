import Foundation
import KubeTesting
import Testing

/// The Istio source as a user runs it: Istio's standard metrics (written here as OpenMetrics and
/// loaded into a real Prometheus's TSDB with `promtool tsdb create-blocks-from openmetrics`, as
/// if its sidecars had been scraped for the last half hour), read by
/// `netwatch flows collect --istio-prometheus`, then turned into NetworkPolicies by
/// `netwatch render` with the workloads and Services on disk.
@Suite("Istio service graph through Prometheus", .serialized)
struct IstioSourceEndToEndTests {
    static let labels = #"reporter="%@",source_workload="%@",source_workload_namespace="%@",destination_workload="%@",destination_workload_namespace="shop",destination_service_name="%@",destination_service_namespace="%@",request_protocol="http",response_code="200""#

    static func series(_ metric: String, reporter: String = "source", from client: String, namespace: String = "shop", to workload: String,
                       service: String, serviceNamespace: String = "shop", increasing: Bool = true, now: Int) -> String {
        let labels = String(format: labels, reporter, client, namespace, workload, service, serviceNamespace)
        // One sample every 30 s over the last 30 minutes, ending a minute ago.
        return stride(from: now - 1_800, through: now - 60, by: 30).enumerated().map { index, time in
            "\(metric)_total{\(labels)} \(increasing ? 10 + index * 3 : 42) \(time)"
        }.joined(separator: "\n")
    }

    static let manifests = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: frontend, namespace: shop}
        spec:
          selector: {matchLabels: {app: frontend}}
          template: {metadata: {labels: {app: frontend, pod-template-hash: abc}}, spec: {containers: [{name: web, image: web}]}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: cart, namespace: shop}
        spec:
          selector: {matchLabels: {app: cart}}
          template: {metadata: {labels: {app: cart}}, spec: {containers: [{name: cart, image: cart, ports: [{name: http, containerPort: 8080}]}]}}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: shop}
        spec:
          selector: {matchLabels: {app: db}}
          template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: db, ports: [{containerPort: 5432}]}]}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: cart, namespace: shop}
        spec: {selector: {app: cart}, ports: [{port: 80, targetPort: http}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: shop}
        spec: {selector: {app: db}, ports: [{port: 5432}]}
        """

    @Test("the sidecars' view becomes connections between workloads, Services resolved to targetPorts; unknown, passthrough and idle series skipped")
    func istioToPolicies() async throws {
        for tool in ["/usr/bin/prometheus", "/usr/bin/promtool", CommandLineTests.binary] {
            guard FileManager.default.isExecutableFile(atPath: tool) else { throw TestFailure("\(tool) is missing; run hack/setup (make test does)") }
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-istio-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/input", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let now = Int(Date().timeIntervalSince1970)
        let metrics = [
            "# TYPE istio_requests counter",
            Self.series("istio_requests", from: "frontend", to: "cart", service: "cart", now: now),
            Self.series("istio_requests", reporter: "destination", from: "frontend", to: "cart", service: "cart", now: now),
            Self.series("istio_requests", from: "frontend", to: "unknown", service: "PassthroughCluster", serviceNamespace: "unknown", now: now),
            Self.series("istio_requests", from: "unknown", namespace: "unknown", to: "cart", service: "cart", now: now),
            Self.series("istio_requests", from: "orders", to: "cart", service: "cart", increasing: false, now: now),
            "# TYPE istio_tcp_connections_opened counter",
            Self.series("istio_tcp_connections_opened", from: "cart", to: "db", service: "db", now: now),
            "# EOF", "",
        ].joined(separator: "\n")
        try metrics.write(toFile: work + "/istio.om", atomically: true, encoding: .utf8)
        try await offPool { try DashboardEndToEndTests.run(["/usr/bin/promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet", work + "/istio.om", work + "/tsdb"]) }
        try "global: {scrape_interval: 1m}\n".write(toFile: work + "/prometheus.yml", atomically: true, encoding: .utf8)
        let port = freeLoopbackPort()
        var processes = ProcessGroup()
        defer { processes.stopAll() }
        try processes.start("/usr/bin/prometheus", ["--config.file=\(work)/prometheus.yml", "--storage.tsdb.path=\(work)/tsdb", "--web.listen-address=127.0.0.1:\(port)"])
        let api = PrometheusAPI(port: port)
        var ready = false
        for _ in 0..<120 where !ready {
            ready = (try? await api.query("istio_requests_total"))?.isEmpty == false
            if !ready { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(ready, "Prometheus never served the backfilled series")

        let output = work + "/input/istio.jsonl"
        try await offPool {
            try DashboardEndToEndTests.run([CommandLineTests.binary, "flows", "collect", "--istio-prometheus", "http://127.0.0.1:\(port)", "--window", "1h", "--output", output])
        }
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2, "frontend → cart and cart → db: \(lines)")
        #expect(lines.allSatisfy { $0.contains(#""source":"istio""#) && !$0.contains(#""port""#) }, "\(lines)")
        #expect(lines.contains { $0.contains(#""clientIdentity":{"kind":"","namespace":"shop","name":"frontend""#) && $0.contains(#""serverIdentity":{"kind":"Service","namespace":"shop","name":"cart"}"#) })

        try Self.manifests.write(toFile: work + "/input/shop.yaml", atomically: true, encoding: .utf8)
        try await offPool { try DashboardEndToEndTests.run([CommandLineTests.binary, "render", "--input", work + "/input", "--output", work + "/out"]) }
        let policies = work + "/out/networkpolicies/shop/"
        let frontend = try String(contentsOfFile: policies + "frontend-deployment-flows.yaml", encoding: .utf8)
        let cart = try String(contentsOfFile: policies + "cart-deployment-flows.yaml", encoding: .utf8)
        let db = try String(contentsOfFile: policies + "db-statefulset-flows.yaml", encoding: .utf8)
        #expect(frontend.contains("app: cart") && frontend.contains("port: http"), "frontend may reach cart's pods on the Service's named targetPort:\n\(frontend)")
        #expect(cart.contains("app: frontend") && cart.contains("app: db") && cart.contains("port: 5432"), "\(cart)")
        #expect(db.contains("app: cart") && !db.contains("orders"), "\(db)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: policies).count == 3, "orders (no increase) and the unknown client make no policy")
    }
}
