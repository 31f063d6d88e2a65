import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
import RenderIO
import KubeTesting
import Testing
import YAML

@Suite("Render")
struct RenderTests {
    @Test("the same objects in any order and file split give identical bytes", arguments: 0..<5)
    func determinism(seed: Int) throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let (reference, _) = Snapshot.decode(loaded.objects)
        var generator = SplitMix(seed: UInt64(seed))
        let (shuffled, _) = Snapshot.decode(loaded.objects.shuffled(using: &generator))
        var reversed = shuffled
        reversed.pods.reverse()
        reversed.namespaces.reverse()
        #expect(render(reference) == render(shuffled))
        #expect(render(reference) == render(reversed))
    }

    @Test("an invalid monitor is reported and skipped while the rest still renders")
    func badObjectDoesNotBlockOthers() throws {
        let documents = try YAMLParser().parse("""
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: s, namespace: mon}
            spec: {monitorSelector: {}, monitorNamespaceSelector: {any: true}}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: good, namespace: a}
            spec: {selector: {}, endpoints: [{port: metrics}]}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: bad, namespace: a}
            spec: {selector: {}, endpoints: [{port: metrics, relabelings: [{regex: "a**", targetLabel: x, sourceLabels: [src]}]}]}
            """, file: "mixed.yaml")
        let raws = documents.flatMap { ObjectReader.rawObjects(from: $0.node, source: SourceLocation(file: "mixed.yaml", line: $0.line)).0 }
        let (snapshot, problems) = Snapshot.decode(raws)
        #expect(problems.count == 1)
        #expect(problems.first?.description.hasPrefix("error: mixed.yaml:11: NetworkMonitor a/bad: spec.endpoints[0].relabelings[0].regex:") == true)
        let config = text(render(snapshot).artifacts.first { $0.path == "mon/s/prometheus/prometheus.yml" })
        #expect(config.contains("job_name: netwatch/a/good/0"))
        #expect(!config.contains("netwatch/a/bad"))
    }

    @Test("selector semantics: absent monitorSelector selects none, absent namespace selector means own namespace")
    func selectorSemantics() {
        func monitor(_ name: String, _ namespace: String, labels: [String: String] = [:]) -> NetworkMonitor {
            NetworkMonitor(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels),
                spec: NetworkMonitorSpec(selector: LabelSelector(), endpoints: [.init(port: .string("m"))]))
        }
        let monitors = [monitor("a", "mon", labels: ["team": "x"]), monitor("b", "other", labels: ["team": "x"]), monitor("c", "mon")]
        let planner = ScrapePlanner(snapshot: Snapshot(networkMonitors: monitors))
        let none = MonitoringStack(metadata: ObjectMeta(name: "s", namespace: "mon"), spec: MonitoringStackSpec())
        #expect(planner.plan(none, monitors: monitors).jobs.isEmpty)
        let own = MonitoringStack(metadata: ObjectMeta(name: "s", namespace: "mon"), spec: MonitoringStackSpec(monitorSelector: LabelSelector()))
        #expect(planner.plan(own, monitors: monitors).jobs.map(\.name) == ["netwatch/mon/a/0", "netwatch/mon/c/0"])
        let labelled = MonitoringStack(metadata: ObjectMeta(name: "s", namespace: "mon"),
            spec: MonitoringStackSpec(monitorSelector: LabelSelector(matchLabels: ["team": "x"]), monitorNamespaceSelector: NamespaceSelector(any: true)))
        #expect(planner.plan(labelled, monitors: monitors).jobs.map(\.name) == ["netwatch/mon/a/0", "netwatch/other/b/0"])
    }

    @Test("static discovery: a pod change rewrites only its file_sd file, never prometheus.yml")
    func podChangeTouchesOnlyFileSD() throws {
        let (before, _) = renderManifests("manifests/samples")
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        var (snapshot, _) = Snapshot.decode(loaded.objects)
        let index = try #require(snapshot.pods.firstIndex { $0.metadata.name == "ledger-1" })
        snapshot.pods[index].status.podIP = "10.42.0.99"
        let after = render(snapshot)
        let changed = zip(before.artifacts, after.artifacts).filter { $0.bytes != $1.bytes }.map(\.0.path)
        #expect(changed == [
            "monitoring/edge/kubernetes/configmap-prometheus-edge-config-file-sd-0.yaml",
            "monitoring/edge/prometheus/file_sd/payments_ledger_0.json",
        ])
    }

    @Test("FileSDDocument updated pod by pod equals a full render")
    func incrementalEqualsFull() {
        let pods = (0..<50).map { index in
            Pod(metadata: ObjectMeta(name: "p\(index)", namespace: "n\(index % 3)", labels: ["app": "x"]),
                spec: PodSpec(containers: [Container(name: "c", ports: [ContainerPort(name: "m", containerPort: 9100)])]),
                status: PodStatus(phase: "Running", podIP: "127.0.0.\(index + 1)"))
        }
        let job = ScrapePlanner(snapshot: Snapshot(pods: pods)).plan(
            MonitoringStack(metadata: ObjectMeta(name: "s", namespace: "n0"),
                spec: MonitoringStackSpec(prometheus: PrometheusSettings(discovery: .static), monitorSelector: LabelSelector())),
            monitors: [NetworkMonitor(metadata: ObjectMeta(name: "m", namespace: "n0"),
                spec: NetworkMonitorSpec(selector: LabelSelector(), namespaceSelector: NamespaceSelector(any: true), endpoints: [.init(port: .string("m"))]))]
        ).jobs[0]
        var full = FileSDDocument()
        for pod in pods { full.set(namespace: pod.metadata.namespace ?? "", pod: pod.metadata.name, bytes: FileSDGenerator.encode(pod, for: job)) }
        var incremental = FileSDDocument()
        for pod in pods.reversed() { incremental.set(namespace: pod.metadata.namespace ?? "", pod: pod.metadata.name, bytes: FileSDGenerator.encode(pod, for: job)) }
        #expect(incremental.bytes == full.bytes)
        let removed = incremental.set(namespace: "n1", pod: "p1", bytes: nil)
        let removedAgain = incremental.set(namespace: "n1", pod: "p1", bytes: nil)
        #expect(removed)
        #expect(!removedAgain)
        #expect(incremental.podCount == 49)
        let parsed = try? YAMLParser().parse(incremental.bytes, file: "sd.json").first?.node
        #expect(parsed?.sequence?.count == 49)
    }

    @Test("large configurations are gzipped, and gzip -d restores them exactly")
    func gzipAboveThreshold() throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let (snapshot, _) = Snapshot.decode(loaded.objects)
        let result = render(snapshot, options: RenderOptions(compressionThreshold: 100))
        let manifest = text(result.artifacts.first { $0.path == "monitoring/main/kubernetes/configmap-prometheus-main-config.yaml" })
        let node = try #require(try YAMLParser().parse(manifest).first?.node)
        let encoded = try #require(node["binaryData"]?["prometheus-shard-0.yml.gz"]?.string)
        let compressed = try #require(Data(base64Encoded: encoded))
        let original = try #require(result.artifacts.first { $0.path == "monitoring/main/prometheus/prometheus-shard-0.yml" })
        #expect(try gunzip(compressed) == Data(original.bytes))
        #expect(compressed.count < original.bytes.count / 3)
    }

    @Test("gzip output round-trips through the real gzip for varied inputs", arguments: [0, 1, 2, 100, 5000, 70_000])
    func gzipProperty(size: Int) throws {
        var generator = SplitMix(seed: UInt64(size))
        let alphabet = Array("abc: -\n0123".utf8)
        let input = (0..<size).map { index in index % 7 == 0 ? UInt8.random(in: 0...255, using: &generator) : alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        #expect(try gunzip(Data(Gzip.compress(input))) == Data(input))
    }
}

func gunzip(_ data: Data) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-dc"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(data)
    try input.fileHandleForWriting.close()
    let result = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CocoaError(.fileReadCorruptFile) }
    return result
}

