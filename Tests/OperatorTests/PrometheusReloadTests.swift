import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Logging
import Operator
import RenderIO
import Testing

/// The operator with a real Prometheus (Debian's) on loopback, as for a Prometheus on a VM:
/// output directory + reload URL.
@Suite("Operator reloads a real Prometheus")
struct PrometheusReloadTests {
    static let http = try! CurlTransport(logger: Logger(label: "test"))

    func get(_ url: String) async -> [UInt8]? {
        guard let response = try? await Self.http.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(5))), response.head.status == 200 else { return nil }
        return response.body
    }

    func metric(_ name: String, port: Int) async -> Double? {
        guard let data = await get("http://127.0.0.1:\(port)/metrics") else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    @Test("a changed prometheus.yml is reloaded once and verified; pod churn (file_sd only) causes no reload")
    func reloadsAndVerifies() async throws {
        let prometheusBinary = "/usr/bin/prometheus"
        #expect(FileManager.default.isExecutableFile(atPath: prometheusBinary), "run hack/setup: it installs Debian's prometheus")
        let port = freeLoopbackPort()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-reload-\(UUID().uuidString)").path
        let output = work + "/out"

        let stack: Node = [
            "apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack", "metadata": ["name": "vm", "namespace": "obs"],
            "spec": ["prometheus": ["scrapeInterval": "15s", "discovery": "static", "output": ["directory": "/etc/prometheus"], "reload": ["url": .string("http://127.0.0.1:\(port)/-/reload")]], "monitorSelector": [:]],
        ]
        let monitor: Node = [
            "apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkMonitor", "metadata": ["name": "nodes", "namespace": "obs"],
            "spec": ["selector": ["matchLabels": ["app": "node"]], "endpoints": [["port": "metrics"]]],
        ]
        let harness = try await OperatorHarness.start(objects: [stack, monitor], outputDirectory: output)
        let client = harness.client
        let config = output + "/obs/vm/prometheus/prometheus.yml"
        #expect(try await eventually { FileManager.default.fileExists(atPath: config) })

        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: prometheusBinary)
        prometheus.arguments = ["--config.file=\(config)", "--storage.tsdb.path=\(work)/tsdb", "--web.listen-address=127.0.0.1:\(port)", "--web.enable-lifecycle"]
        prometheus.standardOutput = FileHandle.nullDevice
        prometheus.standardError = FileHandle.nullDevice
        try prometheus.run()
        defer { prometheus.terminate(); prometheus.waitUntilExit() }
        let started = try await eventually(timeout: .seconds(30)) { await metric("prometheus_config_last_reload_successful", port: port) == 1 }
        #expect(started, "Prometheus on port \(port) did not come up (running: \(prometheus.isRunning))")

        let stacks = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "monitoringstacks", kind: "MonitoringStack", namespaced: true)
        // The first reload attempts may have hit a Prometheus not yet listening; the status says so, then recovers.
        #expect(try await eventually(timeout: .seconds(20)) {
            let object = try await client.get(Node.self, stacks, namespace: "obs", name: "vm")
            return object["status"]?["conditions"]?.sequence?.contains { $0["type"] == "Reloaded" && $0["status"] == "True" } == true
        })
        let before = try #require(await metric("prometheus_config_last_reload_success_timestamp_seconds", port: port))

        // Pod churn: file_sd only, no reload.
        let pod: Node = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "node-1", "namespace": "obs", "labels": ["app": "node"]],
                         "spec": ["containers": [["name": "exporter", "ports": [["name": "metrics", "containerPort": 9100]]]]],
                         "status": ["phase": "Running", "podIP": "127.0.0.1"]]
        let created = try await client.create(Node.self, .pods, namespace: "obs", object: pod)
        #expect(try await eventually { (try? String(contentsOfFile: output + "/obs/vm/prometheus/file_sd/obs_nodes_0.json", encoding: .utf8))?.contains("127.0.0.1:9100") == true })
        try await harness.settled(after: created, .pods)  // a reload, if one were (wrongly) sent, has been
        #expect(await metric("prometheus_config_last_reload_success_timestamp_seconds", port: port) == before)

        // An invalid edit (timeout longer than the interval): a condition naming the field; the
        // files Prometheus runs on stay as they were, and nothing is reloaded.
        let goodConfig = try String(contentsOfFile: config, encoding: .utf8)
        _ = try await client.patch(Node.self, stacks, namespace: "obs", name: "vm", patch: .merge(["spec": ["prometheus": ["scrapeInterval": "7s"]]]))
        #expect(try await eventually {
            let object = try await client.get(Node.self, stacks, namespace: "obs", name: "vm")
            return object["status"]?["conditions"]?.sequence?.contains { $0["type"] == "ConfigValid" && $0["status"] == "False" && ($0["message"]?.string ?? "").contains("scrapeTimeout") } == true
        })
        #expect(try String(contentsOfFile: config, encoding: .utf8) == goodConfig)
        #expect(await metric("prometheus_config_last_reload_success_timestamp_seconds", port: port) == before)

        // A valid change: rewritten, reloaded, verified, and Prometheus runs the new interval.
        try await Task.sleep(for: .seconds(1))  // the reload timestamp has one-second resolution
        _ = try await client.patch(Node.self, stacks, namespace: "obs", name: "vm", patch: .merge(["spec": ["prometheus": ["scrapeInterval": "20s"]]]))
        #expect(try await eventually(timeout: .seconds(20)) {
            guard let after = await metric("prometheus_config_last_reload_success_timestamp_seconds", port: port) else { return false }
            return after > before
        })
        let body = try #require(await get("http://127.0.0.1:\(port)/api/v1/status/config"))
        #expect(String(decoding: body, as: UTF8.self).contains("scrape_interval: 20s"))

        await harness.stop()
    }
}
