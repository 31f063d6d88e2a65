import BenchmarkSupport
import ConfigGen
import Foundation
import KubeModel
import NetWatchAPI

/// Benchmarks of the render path against DESIGN.md §6:
/// - full render, 100k pods / 5k namespaces / 2k monitors, static discovery: ≤ 1 s, ≤ 500 MB peak;
/// - one pod changed → updated file_sd bytes: ≤ 5 ms.
/// Prints one line per measurement; `make bench` runs it in release mode.


/// A pod with what Prometheus's pod discovery turns into labels on a real cluster: a uid, a
/// controlling ReplicaSet, labels and annotations, the Ready condition, host IP, image and
/// container ID (so file_sd carries the complete label set).
func makePod(_ index: Int, namespace: String, ip: String) -> Pod {
    var metadata = ObjectMeta(name: "app-\(index % 5)-\(index)", namespace: namespace,
        labels: ["app": "app-\(index % 5)", "tier": index % 2 == 0 ? "frontend" : "backend", "pod-template-hash": "7d4b9c6f5"],
        annotations: ["prometheus.io/scrape": "true", "kubectl.kubernetes.io/restartedAt": "2026-12-01T10:00:00Z"],
        uid: "5b0c7a3e-1d2f-4c6b-9a8e-\(String(format: "%012d", index))")
    metadata.ownerReferences = [OwnerReference(kind: "ReplicaSet", name: "app-\(index % 5)-7d4b9c6f5", controller: true)]
    return Pod(
        metadata: metadata,
        spec: PodSpec(containers: [Container(name: "main", image: "registry.example.com/team/app-\(index % 5):1.4.2",
                                             ports: [ContainerPort(name: "http", containerPort: 8080), ContainerPort(name: "metrics", containerPort: 9090)])],
            nodeName: "node-\(index % 200)"),
        status: PodStatus(phase: "Running", podIP: ip, hostIP: "192.0.2.\(index % 200)", ready: "True",
                          containerStatuses: [.init(name: "main", containerID: "containerd://\(String(repeating: "3f9a", count: 16))")]))
}

func makeSnapshot(pods podCount: Int, namespaces namespaceCount: Int, monitors monitorCount: Int) -> Snapshot {
    var snapshot = Snapshot()
    for index in 0..<namespaceCount {
        snapshot.namespaces.append(Namespace(metadata: ObjectMeta(name: "ns-\(index)", labels: ["team": "team-\(index % 50)"])))
    }
    for index in 0..<podCount {
        let ip = "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)"
        snapshot.pods.append(makePod(index, namespace: "ns-\(index % namespaceCount)", ip: ip))
    }
    for index in 0..<monitorCount {
        let namespace = "ns-\(index * namespaceCount / monitorCount)"
        snapshot.networkMonitors.append(NetworkMonitor(
            metadata: ObjectMeta(name: "monitor-\(index)", namespace: namespace, labels: ["netwatch.dev/stack": "main"]),
            spec: NetworkMonitorSpec(
                selector: LabelSelector(matchExpressions: [.init(key: "app", operator: .exists)]),
                endpoints: [.init(port: .string("metrics"), relabelings: [RelabelConfig(sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node")])],
                podTargetLabels: ["tier"])))
    }
    snapshot.monitoringStacks.append(MonitoringStack(
        metadata: ObjectMeta(name: "main", namespace: "monitoring"),
        spec: MonitoringStackSpec(
            prometheus: PrometheusSettings(discovery: .static, output: .directory("/etc/prometheus")),
            monitorSelector: LabelSelector(matchLabels: ["netwatch.dev/stack": "main"]),
            monitorNamespaceSelector: NamespaceSelector(any: true))))
    return snapshot
}

func measure<T>(_ body: () -> T) -> (T, Duration) {
    let clock = ContinuousClock()
    var result: T?
    let elapsed = clock.measure { result = body() }
    return (result!, elapsed)
}

let arguments = CommandLine.arguments
let pods = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
let snapshot = makeSnapshot(pods: pods, namespaces: 5_000, monitors: 2_000)
let baseline = residentMegabytes("VmHWM")

var fullTimes: [Double] = []
var result = RenderResult(artifacts: [], diagnostics: [])
for _ in 0..<5 {
    let (rendered, elapsed) = measure { render(snapshot) }
    result = rendered
    fullTimes.append(milliseconds(elapsed))
}
let bytes = result.artifacts.reduce(0) { $0 + $1.bytes.count }
let targets = result.artifacts.filter { $0.role == .fileSD }.reduce(0) { count, artifact in count + artifact.bytes.filter { $0 == UInt8(ascii: "\n") }.count - 2 }
let fileSDBytes = result.artifacts.filter { $0.role == .fileSD }.reduce(0) { $0 + $1.bytes.count }
print("full render: pods=\(pods) namespaces=5000 monitors=2000 artifacts=\(result.artifacts.count) bytes=\(bytes) targets≈\(targets) diagnostics=\(result.diagnostics.count)")
print("file_sd: \(fileSDBytes) bytes for \(targets) targets, \(targets > 0 ? fileSDBytes / targets : 0) bytes per target (every label Prometheus's pod discovery builds)")
print(String(format: "full render wall ms: min %.1f median %.1f max %.1f (5 runs)", fullTimes.min()!, fullTimes.sorted()[2], fullTimes.max()!))
print(String(format: "peak RSS MB: %.1f (after building the snapshot: %.1f)", residentMegabytes("VmHWM"), baseline))
BenchmarkReport.record("full render median", fullTimes.sorted()[2], unit: "ms", better: .lower, target: 1000)
BenchmarkReport.record("full render peak RSS", residentMegabytes("VmHWM"), unit: "MB", better: .lower, target: 500)
BenchmarkReport.record("file_sd bytes per target", Double(targets > 0 ? fileSDBytes / targets : 0), unit: "B", better: .lower)

// One pod changes: find the jobs that watch its namespace, re-encode its lines, rebuild the file.
let planner = ScrapePlanner(snapshot: snapshot)
let plan = planner.plan(snapshot.monitoringStacks[0], monitors: snapshot.networkMonitors)
var documents: [String: FileSDDocument] = [:]
let podIndex = PodIndex(snapshot.pods)
for job in plan.jobs {
    guard case .pods(let targets) = job.targets, case .names(let names) = targets.namespaces else { continue }
    var document = FileSDDocument()
    for namespace in names {
        for pod in podIndex.byNamespace[namespace] ?? [] {
            document.set(namespace: namespace, pod: pod.metadata.name, bytes: FileSDGenerator.encode(pod, for: job))
        }
    }
    documents[job.fileStem] = document
}
var changeTimes: [Double] = []
var changedFiles = 0
for round in 0..<200 {
    var pod = snapshot.pods[(round * 7_919) % snapshot.pods.count]
    pod.status.podIP = "10.255.\(round / 256).\(round % 256)"
    let (files, elapsed) = measure { () -> [[UInt8]] in
        var files: [[UInt8]] = []
        let namespace = pod.metadata.namespace ?? "default"
        for job in plan.jobs {
            guard case .pods(let targets) = job.targets, case .names(let names) = targets.namespaces, names.contains(namespace) else { continue }
            if documents[job.fileStem]?.set(namespace: namespace, pod: pod.metadata.name, bytes: FileSDGenerator.encode(pod, for: job)) == true {
                files.append(documents[job.fileStem]?.bytes ?? [])
            }
        }
        return files
    }
    changedFiles += files.count
    changeTimes.append(milliseconds(elapsed))
}
changeTimes.sort()
print(String(format: "one pod changed → file_sd bytes ms: median %.3f p99 %.3f max %.3f (200 changes, %d files rewritten, prometheus.yml untouched)",
    changeTimes[100], changeTimes[198], changeTimes[199], changedFiles))
BenchmarkReport.record("one pod changed, file_sd p99", changeTimes[198], unit: "ms", better: .lower, target: 5)

// One NetworkMonitor edited → a full render again, from scratch and reusing the previous
// render's file_sd documents for every job that did not change (what the operator does).
var live = IncrementalRender(snapshot: snapshot)
var coldTimes: [Double] = [], reusedTimes: [Double] = []
var edited = snapshot
for round in 0..<5 {
    edited.networkMonitors[round * 397].spec.endpoints[0].interval = try PrometheusDuration(parsing: "\(31 + round)s")
    let (cold, coldElapsed) = measure { IncrementalRender(snapshot: edited) }
    let (reused, reusedElapsed) = measure { IncrementalRender(snapshot: edited, reusing: live) }
    precondition(reused.result == cold.result, "a render reusing documents differs from one from scratch")
    coldTimes.append(milliseconds(coldElapsed))
    reusedTimes.append(milliseconds(reusedElapsed))
    live = reused
}
print(String(format: "one monitor edited → full render ms: from scratch median %.1f, reusing unchanged jobs median %.1f (5 edits)",
    coldTimes.sorted()[2], reusedTimes.sorted()[2]))
BenchmarkReport.record("one monitor edited, render reusing jobs median", reusedTimes.sorted()[2], unit: "ms", better: .lower)

// NetworkProbes: 2,000 probes over 10,000 Services (one target each), plus the modules file.
var probeSnapshot = Snapshot()
for index in 0..<10_000 {
    let namespace = "probe-ns-\(index % 1_000)"
    probeSnapshot.services.append(Service(metadata: ObjectMeta(name: "svc-\(index)", namespace: namespace, labels: ["app": "svc-\(index)"]),
                                          spec: .init(ports: [.init(name: "http", port: 8080)])))
}
for index in 0..<2_000 {
    let service = index * 5
    probeSnapshot.networkProbes.append(NetworkProbe(
        metadata: ObjectMeta(name: "probe-\(index)", namespace: "probe-ns-\(service % 1_000)"),
        spec: NetworkProbeSpec(prober: .init(url: "blackbox.monitoring.svc:9115"), module: .http(.init(validStatusCodes: [200])),
                               targets: .init(services: .init(selector: LabelSelector(matchLabels: ["app": "svc-\(service)"]), port: .string("http"))))))
}
probeSnapshot.monitoringStacks.append({
    var stack = MonitoringStack(metadata: ObjectMeta(name: "probes", namespace: "monitoring"),
                                spec: MonitoringStackSpec(prometheus: PrometheusSettings(output: .directory("/etc/prometheus")), monitorNamespaceSelector: NamespaceSelector(any: true)))
    stack.spec.probeSelector = LabelSelector()
    return stack
}())
var probeTimes: [Double] = []
var probeResult = RenderResult(artifacts: [], diagnostics: [])
for _ in 0..<5 {
    let (rendered, elapsed) = measure { render(probeSnapshot) }
    probeResult = rendered
    probeTimes.append(milliseconds(elapsed))
}
let modulesBytes = probeResult.artifacts.first { $0.role == .proberConfig }?.bytes.count ?? 0
let probeJobs = probeResult.artifacts.filter { $0.role == .prometheusConfig }.reduce(0) { $0 + String(decoding: $1.bytes, as: UTF8.self).components(separatedBy: "job_name: probe/").count - 1 }
precondition(probeResult.diagnostics.isEmpty && probeJobs == 2_000, "\(probeResult.diagnostics.prefix(3)) \(probeJobs) jobs")
print(String(format: "2,000 NetworkProbes over 10,000 Services → %d jobs and a %d-byte blackbox.yml: render ms min %.1f median %.1f max %.1f (5 runs; target <= 300 ms)",
    probeJobs, modulesBytes, probeTimes.min()!, probeTimes.sorted()[2], probeTimes.max()!))
BenchmarkReport.record("2,000 probes render median", probeTimes.sorted()[2], unit: "ms", better: .lower, target: 300)
