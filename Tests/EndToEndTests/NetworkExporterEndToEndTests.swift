import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
import RenderIO
import Testing

/// The per-pod network exporter as a pod gets it: `netwatch inject` adds the sidecar to a
/// pod, the sidecar's exact command line (node_exporter from Debian with the
/// injected flags) runs inside a network namespace this test creates — the pod's — and a
/// NetworkMonitor with `networkExporter: true`, rendered by `netwatch render`, has a real
/// Prometheus in the same namespace scrape it.
@Suite("Per-pod network exporter in a network namespace", .serialized)
struct NetworkExporterEndToEndTests {
    static let manifests = KustomizeInjectionTests.cluster + """

        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-0, namespace: shop, labels: {app: web}}
        spec:
          containers: [{name: web, image: "nginx:1.27", ports: [{name: http, containerPort: 8080}]}]
        status: {phase: Running, podIP: 127.0.0.1}
        """

    static let monitoring = """
        apiVersion: netwatch.dev/v1alpha1
        kind: MonitoringStack
        metadata: {name: pods, namespace: shop}
        spec:
          prometheus: {scrapeInterval: 1s, scrapeTimeout: 1s, evaluationInterval: 1s, discovery: static, output: {directory: /etc/prometheus}}
          monitorSelector: {}
        ---
        apiVersion: netwatch.dev/v1alpha1
        kind: NetworkMonitor
        metadata: {name: web, namespace: shop}
        spec:
          selector: {matchLabels: {app: web}}
          networkExporter: true
        """

    /// Metric samples of a text exposition: (name, labels, value).
    static func samples(_ text: String, named name: String) -> [(labels: [String: String], value: Double)] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { return nil }
            var labels: [String: String] = [:]
            if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                for pair in line[line.index(after: open)..<close].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { labels[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                }
            }
            guard let value = Double(line.split(separator: " ").last ?? "") else { return nil }
            return (labels, value)
        }
    }

    @Test("the injected exporter sees only its namespace's interfaces and sockets, and a networkExporter monitor has Prometheus scrape it")
    func exporterInItsNamespace() async throws {
        for tool in ["/usr/sbin/ip", "/usr/bin/curl", "/usr/bin/prometheus", "/usr/bin/prometheus-node-exporter", CommandLineTests.binary] {
            guard FileManager.default.isExecutableFile(atPath: tool) else { throw TestFailure("\(tool) is missing; run hack/setup and swift build (make test does)") }
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-exporter-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/in", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Self.manifests.write(toFile: work + "/in/app.yaml", atomically: true, encoding: .utf8)
        try Self.monitoring.write(toFile: work + "/monitoring.yaml", atomically: true, encoding: .utf8)

        // 1. netwatch inject, as a user runs it; the sidecar's command line comes from its output.
        _ = try await offPool { try DashboardEndToEndTests.run([CommandLineTests.binary, "inject", "--input", work + "/in", "--output", work + "/injected"]) }
        let injected = ManifestLoader().load(paths: [work + "/injected"])
        let pod = try #require(injected.objects.first { $0.type.kind == "Pod" }?.document)
        let sidecar = try #require(pod["spec"]?["initContainers"]?.sequence?.first { $0["name"] == "netwatch-network-exporter" })
        let arguments = try #require(sidecar["args"]?.sequence?.compactMap { $0.string })
        #expect(arguments == NetworkExporterSidecar.arguments)

        // 2. The pod's network namespace: loopback and a veth pair, nothing else.
        let namespace = DashboardEndToEndTests.Namespace(name: "nw-pod-\(getpid())-\(UInt16.random(in: 0...UInt16.max))")
        try await offPool { try DashboardEndToEndTests.run(["/usr/sbin/ip", "netns", "add", namespace.name]) }
        defer { _ = try? DashboardEndToEndTests.run(["/usr/sbin/ip", "netns", "del", namespace.name]) }
        for command in [["link", "set", "lo", "up"], ["link", "add", "eth0", "type", "veth", "peer", "name", "peer0"],
                        ["link", "set", "eth0", "up"], ["link", "set", "peer0", "up"]] {
            try await offPool { try DashboardEndToEndTests.run(namespace.exec(["/usr/sbin/ip"] + command)) }
        }
        var processes = ProcessGroup()
        defer { processes.stopAll() }
        try processes.start("/usr/sbin/ip", Array(namespace.exec(["/usr/bin/prometheus-node-exporter"] + arguments).dropFirst()))

        var metrics = ""
        for _ in 0..<40 {
            if let text = try? DashboardEndToEndTests.run(namespace.exec(["/usr/bin/curl", "-sf", "http://127.0.0.1:\(NetworkExporterSidecar.port)/metrics"])) {
                metrics = text
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(!metrics.isEmpty, "the exporter did not answer in \(namespace.name)")
        // Interfaces: exactly the namespace's, none of the host's.
        let devices = Set(Self.samples(metrics, named: "node_network_receive_bytes_total").compactMap { $0.labels["device"] })
        // (Debian's node_exporter leaves lo out of netdev.)
        #expect(devices.isSuperset(of: ["eth0", "peer0"]) && devices.isSubset(of: ["lo", "eth0", "peer0"]), "\(devices)")
        let hostDevices = Set((try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? [])
        #expect(devices.isDisjoint(with: hostDevices.subtracting(["lo", "eth0", "peer0"])))
        // Sockets: the namespace's own /proc/net/sockstat, not the host's.
        let sockstat = try await offPool { try DashboardEndToEndTests.run(namespace.exec(["/bin/cat", "/proc/net/sockstat"])) }
        let inUse = sockstat.split(separator: "\n").first { $0.hasPrefix("TCP:") }.flatMap { line -> Double? in
            let fields = line.split(separator: " ")
            return fields.firstIndex(of: "inuse").flatMap { Double(fields[$0 + 1]) }
        }
        let exported = Self.samples(metrics, named: "node_sockstat_TCP_inuse").first?.value
        #expect(exported != nil && inUse != nil && abs((exported ?? -99) - (inUse ?? 99)) <= 2, "exporter \(String(describing: exported)), namespace \(String(describing: inUse))")
        // Only the four network collectors run.
        let collectors = Set(Self.samples(metrics, named: "node_scrape_collector_success").compactMap { $0.labels["collector"] })
        #expect(collectors == ["netdev", "netstat", "sockstat", "conntrack"], "\(collectors)")

        // 3. netwatch render of the injected pod and the monitor; Prometheus in the namespace loads it.
        _ = try await offPool { try DashboardEndToEndTests.run([CommandLineTests.binary, "render", "--input", work + "/injected", work + "/monitoring.yaml", "--output", work + "/out"]) }
        let config = work + "/out/shop/pods/prometheus/prometheus.yml"
        #expect(FileManager.default.fileExists(atPath: config))
        try processes.start("/usr/sbin/ip", Array(namespace.exec(["/usr/bin/prometheus", "--config.file=\(config)",
            "--storage.tsdb.path=\(work)/tsdb", "--web.listen-address=127.0.0.1:9090"]).dropFirst()))
        var scraped: [String] = []
        for _ in 0..<80 {
            if let response = try? namespace.prometheus("/api/v1/query", [("query", #"node_network_receive_bytes_total{job="shop/web",endpoint="nw-exporter",device="eth0"}"#)]),
               let result = (response["data"] as? [String: Any])?["result"] as? [[String: Any]], !result.isEmpty {
                scraped = result.compactMap { ($0["metric"] as? [String: String])?["pod"] }
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(scraped == ["web-0"], "Prometheus did not scrape the sidecar through the networkExporter job")
    }
}
