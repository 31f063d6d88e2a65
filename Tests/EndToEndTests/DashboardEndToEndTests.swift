import ConfigGen
import Foundation
import KubeModel
import NetWatchAPI
import Testing

/// Every panel query of the node-network preset against a real Prometheus scraping a real
/// node_exporter, both inside a network namespace this test creates (with a veth pair, so link
/// speeds and per-device counters exist): each must return data. Template variables are
/// resolved the way Grafana does, from their label_values() queries.
@Suite("Dashboards against real Prometheus and node_exporter", .serialized)
struct DashboardEndToEndTests {
    /// Runs a command, returning its standard output; throws with its standard error on failure.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("\(arguments.joined(separator: " ")): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    struct Namespace {
        let name: String
        func exec(_ arguments: [String]) -> [String] { ["/usr/sbin/ip", "netns", "exec", name] + arguments }

        /// GET on Prometheus inside the namespace, decoded as JSON.
        func prometheus(_ path: String, _ parameters: [(String, String)]) throws -> [String: Any] {
            var arguments = ["/usr/bin/curl", "-sf", "-G", "http://127.0.0.1:9090\(path)"]
            for (key, value) in parameters { arguments += ["--data-urlencode", "\(key)=\(value)"] }
            let body = try DashboardEndToEndTests.run(exec(arguments))
            return try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        }
    }

    @Test("every node-network panel query returns data")
    func nodeNetworkPanelsReturnData() async throws {
        for tool in ["/usr/sbin/ip", "/usr/bin/curl", "/usr/bin/prometheus", "/usr/bin/prometheus-node-exporter"] {
            guard FileManager.default.isExecutableFile(atPath: tool) else { throw TestFailure("\(tool) is missing; run hack/setup (make test does)") }
        }
        let namespace = Namespace(name: "nw-dash-\(getpid())-\(UInt16.random(in: 0...UInt16.max))")
        try Self.run(["/usr/sbin/ip", "netns", "add", namespace.name])
        defer { _ = try? Self.run(["/usr/sbin/ip", "netns", "del", namespace.name]) }
        for command in [["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                        ["ip", "link", "set", "v0", "up"], ["ip", "link", "set", "v1", "up"]] {
            try Self.run(namespace.exec(["/usr/sbin/ip"] + command.dropFirst()))
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-dash-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
            - job_name: node
              static_configs: [{targets: ['127.0.0.1:9100']}]
            """.write(toFile: work + "/prometheus.yml", atomically: true, encoding: .utf8)
        var processes = ProcessGroup()
        defer { processes.stopAll() }
        try processes.start("/usr/sbin/ip", namespace.exec(["/usr/bin/prometheus-node-exporter", "--web.listen-address=127.0.0.1:9100",
            "--collector.disable-defaults", "--collector.netdev", "--collector.netclass", "--collector.netstat", "--collector.sockstat",
            "--collector.conntrack", "--collector.cpu"]).dropFirst().map { $0 })
        try processes.start("/usr/sbin/ip", namespace.exec(["/usr/bin/prometheus", "--config.file=\(work)/prometheus.yml",
            "--storage.tsdb.path=\(work)/tsdb", "--web.listen-address=127.0.0.1:9090"]).dropFirst().map { $0 })

        // The dashboard as netwatch renders it (the veths are not excluded here: they are the
        // devices this namespace has besides lo).
        let dashboard = NetworkDashboard(metadata: ObjectMeta(name: "nodes", namespace: "e2e"),
                                         spec: NetworkDashboardSpec(preset: "node-network", excludeDevices: "lo"))
        var stack = MonitoringStack(metadata: ObjectMeta(name: "s", namespace: "e2e"), spec: MonitoringStackSpec(monitorSelector: LabelSelector()))
        stack.spec.dashboardSelector = LabelSelector()
        var snapshot = Snapshot(monitoringStacks: [stack])
        snapshot.networkDashboards = [dashboard]
        let result = render(snapshot)
        let file = try #require(result.artifacts.first { $0.role == .dashboard })

        // Wait for a few scrapes so rates have two samples.
        var ready = false
        for _ in 0..<60 {
            if let up = try? namespace.prometheus("/api/v1/query", [("query", "count_over_time(up{job=\"node\"}[1m])")]),
               let value = (((up["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first?["value"] as? [Any])?.last as? String,
               (Double(value) ?? 0) >= 4 { ready = true; break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(ready, "Prometheus in \(namespace.name) did not scrape node_exporter")

        // Resolve the template variables from their label_values() queries, as Grafana does.
        let queries = try await DashboardQueries(file.bytes) { selector, label in
            (try namespace.prometheus("/api/v1/label/\(label)/values", [("match[]", selector)])["data"] as? [String]) ?? []
        }
        #expect(queries.values["device"]?.contains("v0") == true)

        var empty: [String] = []
        var count = 0
        for (title, expr) in queries.targets {
            let response = try namespace.prometheus("/api/v1/query", [("query", expr)])
            let series = ((response["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            if series.isEmpty { empty.append("\(title): \(expr)") }
            count += 1
        }
        #expect(count >= 15)
        #expect(empty.isEmpty, "panel queries without data:\n\(empty.joined(separator: "\n"))")

        // `netwatch dashboards preview` draws sparklines from the same Prometheus (5 s steps:
        // give it a few).
        try await Task.sleep(for: .seconds(8))
        let manifests = work + "/dashboards.yaml"
        try """
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: s, namespace: e2e}
            spec: {prometheus: {output: {directory: /etc/prometheus}}, monitorSelector: {}, dashboardSelector: {}}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkDashboard
            metadata: {name: nodes, namespace: e2e}
            spec: {preset: node-network, excludeDevices: lo}
            """.write(toFile: manifests, atomically: true, encoding: .utf8)
        try Self.run(namespace.exec([CommandLineTests.binary, "dashboards", "preview", "--input", manifests, "--output", work + "/preview",
                                     "--prometheus", "http://127.0.0.1:9090"]))
        let svgName = try #require(try FileManager.default.contentsOfDirectory(atPath: work + "/preview").first { $0.hasSuffix(".svg") })
        let svg = try String(contentsOfFile: work + "/preview/" + svgName, encoding: .utf8)
        let sparklines = svg.components(separatedBy: "class=\"sparkline\"").count - 1
        #expect(sparklines >= 10, "\(sparklines) sparklines")
    }
}
