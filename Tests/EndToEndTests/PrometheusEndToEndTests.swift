import ConfigGen
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KubeModel
import NetWatchAPI
import RenderIO
import KubeTesting
import Testing

/// Renders a snapshot whose targets are real node_exporters on loopback, starts the real
/// Prometheus (Debian package, installed by hack/setup) on the output, and checks through its
/// HTTP API that the targets are scraped with the expected labels; then a pod change must
/// reach Prometheus through file_sd alone, without a reload.
@Suite("End to end with Prometheus and node_exporter", .serialized)
struct PrometheusEndToEndTests {
    @Test("rendered static discovery is loaded and scraped, and pod churn needs no reload")
    func scrapeAndChurn() async throws {
        var ports: [Int] = []
        while ports.count < 3 { let port = freeLoopbackPort(); if !ports.contains(port) { ports.append(port) } }
        let (exporterA, exporterB, prometheusPort) = (ports[0], ports[1], ports[2])
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        var processes = ProcessGroup()
        defer { processes.stopAll() }
        for port in [exporterA, exporterB] {
            try processes.start("/usr/bin/prometheus-node-exporter", [
                "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.netdev", "--collector.sockstat",
            ])
        }

        var snapshot = Snapshot(
            namespaces: [Namespace(metadata: ObjectMeta(name: "e2e"))],
            pods: [Self.pod("node-a", port: exporterA)],
            monitoringStacks: [MonitoringStack(metadata: ObjectMeta(name: "stack", namespace: "e2e"), spec: MonitoringStackSpec(
                prometheus: PrometheusSettings(
                    scrapeInterval: try PrometheusDuration(parsing: "1s"), scrapeTimeout: try PrometheusDuration(parsing: "1s"), evaluationInterval: try PrometheusDuration(parsing: "1s"),
                    externalLabels: ["cluster": "e2e"], discovery: .static, output: .directory("/etc/prometheus")),
                monitorSelector: LabelSelector()))],
            networkMonitors: [NetworkMonitor(metadata: ObjectMeta(name: "node", namespace: "e2e"), spec: NetworkMonitorSpec(
                selector: LabelSelector(matchLabels: ["app": "node-exporter"]), endpoints: [.init(port: .string("metrics"))],
                staticTargets: [.init(targets: ["127.0.0.1:\(exporterA)"], labels: ["env": "e2e", "region": "loopback"])]))]
        )
        // Rules: two built-in packs and a custom alert that fires at once.
        snapshot.monitoringStacks[0].spec.alertSelector = LabelSelector()
        snapshot.networkAlerts = [NetworkAlerts(metadata: ObjectMeta(name: "network", namespace: "e2e"), spec: NetworkAlertsSpec(
            packs: [.init(name: "node-network"), .init(name: "tcp")],
            groups: [RuleGroup(name: "e2e", rules: [.init(alert: "E2ETargetUp", expr: #"up{job="e2e/node"} == 1"#, labels: ["severity": "info"])])]))]
        let output = OutputDirectory(root: work.appendingPathComponent("out").path)
        let first = render(snapshot)
        #expect(first.diagnostics.isEmpty, "\(first.diagnostics)")
        _ = try output.write(first.artifacts)
        let config = "\(output.root)/e2e/stack/prometheus/prometheus.yml"

        try processes.start("/usr/bin/prometheus", [
            "--config.file=\(config)", "--storage.tsdb.path=\(work.path)/tsdb", "--web.listen-address=127.0.0.1:\(prometheusPort)",
            "--web.enable-lifecycle",
        ])
        let api = PrometheusAPI(port: prometheusPort)
        let targets = try await api.waitForTargets(up: 2)
        let pod = try #require(targets.first { $0["pod"] == "node-a" })
        #expect(pod["namespace"] == "e2e")
        #expect(pod["container"] == "exporter")
        #expect(pod["job"] == "e2e/node")
        #expect(pod["endpoint"] == "metrics")
        #expect(pod["instance"] == "127.0.0.1:\(exporterA)")
        let vm = try #require(targets.first { $0["env"] == "e2e" })
        #expect(vm["region"] == "loopback")
        #expect(vm["job"] == "e2e/node")
        let up = try await api.query(#"up{job="e2e/node"}"#)
        #expect(!up.isEmpty && up.allSatisfy { $0 == "1" })
        let loadedAt = try await api.lastConfigTime()

        // The rule file is loaded: every group is there, every rule evaluates without error, the
        // custom alert fires and a recording rule produces series.
        let groups = try await api.ruleGroups()
        #expect(Set(groups.keys) == ["netwatch-node-network", "netwatch-node-network-recording", "netwatch-tcp", "netwatch-tcp-recording", "e2e"])
        try await api.eventually("every rule evaluated without error") {
            let health = try await api.ruleGroups().values.flatMap { $0 }
            return !health.isEmpty && health.allSatisfy { $0 == "ok" }
        }
        try await api.eventually("E2ETargetUp fires") { try await api.firingAlerts().contains("E2ETargetUp") }
        try await api.eventually("the recording rule has series") {
            try await !api.query("instance_device:node_network_receive_bytes:rate5m").isEmpty
        }

        // A second pod appears: only its file_sd file changes, and Prometheus picks it up from
        // the file without a configuration reload.
        snapshot.pods.append(Self.pod("node-b", port: exporterB))
        let second = render(snapshot)
        let changes = try output.write(second.artifacts)
        #expect(changes.written == ["e2e/stack/prometheus/file_sd/e2e_node_0.json"])
        let after = try await api.waitForTargets(up: 3)
        #expect(after.contains { $0["pod"] == "node-b" && $0["instance"] == "127.0.0.1:\(exporterB)" })
        #expect(try await api.lastConfigTime() == loadedAt)
    }

    static func pod(_ name: String, port: Int) -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: "e2e", labels: ["app": "node-exporter"]),
            spec: PodSpec(containers: [Container(name: "exporter", ports: [ContainerPort(name: "metrics", containerPort: port)])]),
            status: PodStatus(phase: "Running", podIP: "127.0.0.1"))
    }
}

/// Child processes of a test, stopped when the test ends.
struct ProcessGroup {
    var processes: [Process] = []

    /// `log`: a file that gets the process's standard error (discarded without).
    mutating func start(_ executable: String, _ arguments: [String], log: String? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestFailure("\(executable) is missing; run hack/setup (make test does) to install it")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        if let log, FileManager.default.createFile(atPath: log, contents: nil), let handle = FileHandle(forWritingAtPath: log) {
            process.standardError = handle
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        processes.append(process)
    }

    func stopAll() {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The parts of Prometheus's HTTP API the test reads.
struct PrometheusAPI {
    let port: Int

    func get(_ path: String) async throws -> [String: Any] {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        let (data, _) = try await URLSession.shared.data(from: url)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Polls /api/v1/targets until at least `count` active targets are up; returns their labels.
    func waitForTargets(up count: Int) async throws -> [[String: String]] {
        var last: [[String: String]] = []
        for _ in 0..<120 {
            if let body = try? await get("/api/v1/targets"),
                let data = body["data"] as? [String: Any], let active = data["activeTargets"] as? [[String: Any]]
            {
                last = active.filter { $0["health"] as? String == "up" }.compactMap { $0["labels"] as? [String: String] }
                if last.count >= count { return last }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw TestFailure("only \(last.count) of \(count) targets came up: \(last)")
    }

    func query(_ expression: String) async throws -> [String] {
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
        let body = try await get("/api/v1/query?query=\(encoded)")
        let result = ((body["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        return result.compactMap { ($0["value"] as? [Any])?.last as? String }
    }

    /// Rule group name → the health of each of its rules ("ok", "err", "unknown").
    func ruleGroups() async throws -> [String: [String]] {
        let body = try await get("/api/v1/rules")
        let groups = ((body["data"] as? [String: Any])?["groups"] as? [[String: Any]]) ?? []
        var result: [String: [String]] = [:]
        for group in groups {
            guard let name = group["name"] as? String else { continue }
            result[name] = ((group["rules"] as? [[String: Any]]) ?? []).compactMap { $0["health"] as? String }
        }
        return result
    }

    func firingAlerts() async throws -> [String] {
        let body = try await get("/api/v1/alerts")
        let alerts = ((body["data"] as? [String: Any])?["alerts"] as? [[String: Any]]) ?? []
        return alerts.filter { $0["state"] as? String == "firing" }.compactMap { ($0["labels"] as? [String: String])?["alertname"] }
    }

    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        try await waitUntil(what, every: .milliseconds(250), condition)
    }

    func lastConfigTime() async throws -> String {
        let body = try await get("/api/v1/status/runtimeinfo")
        return try #require((body["data"] as? [String: Any])?["lastConfigTime"] as? String)
    }
}

/// Runs blocking work (a child process to its end) on a thread of its own: the cooperative pool
/// has only as many threads as cores (two here), and the in-process servers of other suites
/// running in parallel (the test API server, webhooks) need them.
@discardableResult
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
