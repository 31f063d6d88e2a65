import ConfigGen
import Foundation
import KubeModel
import KubeTesting
import NetWatchAPI
import Testing

@Suite("Incremental render")
struct IncrementalRenderTests {
    static let namespaces = ["a", "b", "c"]

    /// Two static-discovery stacks (one packaged into ConfigMaps, one writing a directory), one
    /// Kubernetes-discovery stack, and monitors that select by label, namespace and port.
    static func snapshot(pods: [Pod]) -> Snapshot {
        let stack = { (name: String, discovery: PrometheusSettings.Discovery, output: PrometheusSettings.Output?) in
            MonitoringStack(metadata: ObjectMeta(name: name, namespace: "a"),
                spec: MonitoringStackSpec(prometheus: PrometheusSettings(discovery: discovery, output: output),
                                          monitorSelector: LabelSelector(), monitorNamespaceSelector: NamespaceSelector(any: true)))
        }
        let monitor = { (name: String, namespace: String, app: String?, scope: NamespaceSelector?, port: IntOrString) in
            NetworkMonitor(metadata: ObjectMeta(name: name, namespace: namespace),
                spec: NetworkMonitorSpec(selector: LabelSelector(matchLabels: app.map { ["app": $0] } ?? [:]), namespaceSelector: scope, endpoints: [.init(port: port)]))
        }
        return Snapshot(
            namespaces: namespaces.map { Namespace(metadata: ObjectMeta(name: $0, labels: ["team": $0 == "c" ? "other" : "shop"])) },
            pods: pods,
            monitoringStacks: [stack("packaged", .static, nil), stack("files", .static, .directory("/etc/prometheus")), stack("sd", .kubernetes, nil)],
            networkMonitors: [
                monitor("web", "a", "web", nil, .string("metrics")),
                monitor("all", "b", nil, NamespaceSelector(any: true), .int(9100)),
                monitor("api", "c", "api", NamespaceSelector(matchNames: ["b", "c"]), .string("metrics")),
            ])
    }

    static func randomPod(_ generator: inout SplitMix) -> Pod {
        let index = Int.random(in: 0..<40, using: &generator)
        let ports = [ContainerPort(name: "metrics", containerPort: 8080), ContainerPort(name: "node", containerPort: 9100)]
            .filter { _ in Bool.random(using: &generator) }
        let phase = ["Running", "Running", "Pending", "Succeeded"].randomElement(using: &generator)
        return Pod(
            metadata: ObjectMeta(name: "p\(index)", namespace: namespaces[index % 3], labels: ["app": ["web", "api", "db"].randomElement(using: &generator)!]),
            spec: PodSpec(containers: [Container(name: "c", ports: ports)], nodeName: "n\(index % 2)"),
            status: PodStatus(phase: phase, podIP: Bool.random(using: &generator) ? "127.0.0.\(index + 1)" : nil))
    }

    @Test("random pod churn applied incrementally equals a full render of the result", arguments: 0..<8)
    func churnEqualsFullRender(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed))
        var pods: [String: Pod] = [:]
        for _ in 0..<30 {
            let pod = Self.randomPod(&generator)
            pods["\(pod.metadata.namespace!)/\(pod.metadata.name)"] = pod
        }
        var live = IncrementalRender(snapshot: Self.snapshot(pods: Array(pods.values)))
        for _ in 0..<40 {
            var changes: [IncrementalRender.PodChange] = []
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let pod = Self.randomPod(&generator)
                let key = "\(pod.metadata.namespace!)/\(pod.metadata.name)"
                if pods[key] != nil, Int.random(in: 0..<3, using: &generator) == 0 {
                    pods[key] = nil
                    changes.append(.delete(namespace: pod.metadata.namespace!, name: pod.metadata.name))
                } else {
                    pods[key] = pod
                    changes.append(.upsert(pod))
                }
            }
            let before = live.result
            let applied = live.apply(changes)
            let changed = try #require(applied)
            let full = render(Self.snapshot(pods: Array(pods.values)))
            #expect(live.result == full)
            // Exactly the artifacts whose bytes differ are reported.
            let expected = full.artifacts.filter { artifact in before.artifacts.first { $0.path == artifact.path }?.bytes != artifact.bytes }
            #expect(changed == expected)
        }
        #expect(live.staticTargetCount(stack: ObjectReference(kind: "MonitoringStack", namespace: "a", name: "sd")) == nil)
        let targets = try #require(live.staticTargetCount(stack: ObjectReference(kind: "MonitoringStack", namespace: "a", name: "files")))
        let listed = live.result.artifacts.filter { $0.path.hasPrefix("a/files/prometheus/file_sd/") }
            .reduce(0) { $0 + String(decoding: $1.bytes, as: UTF8.self).components(separatedBy: "\"targets\"").count - 1 }
        #expect(targets == listed)
    }

    @Test("with file_sd spread over several small ConfigMaps, churn equals a full render and reports exactly the changed artifacts, most ConfigMaps untouched", arguments: 0..<6)
    func churnAcrossConfigMaps(seed: Int) throws {
        let options = RenderOptions(configMapBudget: 4096)
        var generator = SplitMix(seed: UInt64(seed) + 100)
        var pods: [String: Pod] = [:]
        for _ in 0..<30 {
            let pod = Self.randomPod(&generator)
            pods["\(pod.metadata.namespace!)/\(pod.metadata.name)"] = pod
        }
        var live = IncrementalRender(snapshot: Self.snapshot(pods: Array(pods.values)), options: options)
        var incremental = 0, untouchedConfigMaps = 0
        for _ in 0..<40 {
            let pod = Self.randomPod(&generator)
            let key = "\(pod.metadata.namespace!)/\(pod.metadata.name)"
            let change: IncrementalRender.PodChange
            if pods[key] != nil, Int.random(in: 0..<3, using: &generator) == 0 {
                pods[key] = nil
                change = .delete(namespace: pod.metadata.namespace!, name: pod.metadata.name)
            } else {
                pods[key] = pod
                change = .upsert(pod)
            }
            let before = live.result
            let full = render(Self.snapshot(pods: Array(pods.values)), options: options)
            guard let changed = live.apply([change]) else {
                live = IncrementalRender(snapshot: Self.snapshot(pods: Array(pods.values)), options: options)  // the packing or its problems changed
                continue
            }
            incremental += 1
            #expect(live.result == full)
            let expected = full.artifacts.filter { artifact in before.artifacts.first { $0.path == artifact.path }?.bytes != artifact.bytes }
            #expect(changed == expected)
            let configMaps = full.artifacts.filter { $0.path.contains("/kubernetes/configmap-") && $0.path.contains("-file-sd-") }
            untouchedConfigMaps += configMaps.filter { artifact in !changed.contains { $0.path == artifact.path } }.count
        }
        #expect(incremental > 10)
        #expect(untouchedConfigMaps > 0, "several file_sd ConfigMaps, most left alone by a pod change")
    }

    /// A random edit of the monitors: a port, a selector, a monitor removed or added.
    static func editMonitors(_ monitors: inout [NetworkMonitor], _ generator: inout SplitMix) {
        let index = Int.random(in: 0..<max(1, monitors.count), using: &generator)
        switch Int.random(in: 0..<4, using: &generator) {
        case 0 where !monitors.isEmpty:
            monitors[index].spec.endpoints[0].port = [.string("metrics"), .int(9100), .int(8080)].randomElement(using: &generator)
        case 1 where !monitors.isEmpty:
            monitors[index].spec.selector = LabelSelector(matchLabels: ["web", "api", "db"].randomElement(using: &generator).map { ["app": $0] } ?? [:])
        case 2 where monitors.count > 1:
            monitors.remove(at: index)
        default:
            let name = "extra\(Int.random(in: 0..<5, using: &generator))"
            guard !monitors.contains(where: { $0.name == name }) else { return }
            monitors.append(NetworkMonitor(metadata: ObjectMeta(name: name, namespace: namespaces.randomElement(using: &generator)!),
                spec: NetworkMonitorSpec(selector: LabelSelector(matchLabels: ["app": "web"]), namespaceSelector: NamespaceSelector(any: true), endpoints: [.init(port: .string("metrics"))])))
        }
    }

    @Test("a full render reusing the previous render's unchanged pod jobs equals a full render, under pod churn and monitor edits", arguments: 0..<8)
    func reuseEqualsFullRender(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed) + 200)
        var pods: [String: Pod] = [:]
        for _ in 0..<30 {
            let pod = Self.randomPod(&generator)
            pods["\(pod.metadata.namespace!)/\(pod.metadata.name)"] = pod
        }
        var monitors = Self.snapshot(pods: []).networkMonitors
        func snapshot() -> Snapshot {
            var snapshot = Self.snapshot(pods: Array(pods.values))
            snapshot.networkMonitors = monitors
            return snapshot
        }
        var live = IncrementalRender(snapshot: snapshot())
        for _ in 0..<30 {
            // Pods change, and are applied to the live render as the operator does, then a
            // monitor edit asks for a full render.
            var changes: [IncrementalRender.PodChange] = []
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                let pod = Self.randomPod(&generator)
                pods["\(pod.metadata.namespace!)/\(pod.metadata.name)"] = pod
                changes.append(.upsert(pod))
            }
            if live.apply(changes) == nil { live = IncrementalRender(snapshot: snapshot()) }
            Self.editMonitors(&monitors, &generator)
            let reusing = IncrementalRender(snapshot: snapshot(), reusing: live)
            #expect(reusing.result == render(snapshot()))
            live = reusing
        }
    }

    @Test("an unchanged pod job keeps the previous render's document instead of encoding its pods again")
    func unchangedJobsAreReused() {
        let pod = { (name: String, ip: String) in
            Pod(metadata: ObjectMeta(name: name, namespace: "a", labels: ["app": "web"]),
                spec: PodSpec(containers: [Container(name: "c", ports: [ContainerPort(name: "metrics", containerPort: 8080)])]),
                status: PodStatus(phase: "Running", podIP: ip))
        }
        let before = IncrementalRender(snapshot: Self.snapshot(pods: [pod("w1", "127.0.0.1")]))
        // Given other pods on purpose (the caller's guarantee broken), the reused document shows
        // that the job's pods were not encoded again; a changed job is encoded from the pods.
        var changed = Self.snapshot(pods: [pod("w2", "127.0.0.2")])
        changed.networkMonitors[1].spec.endpoints[0].port = .int(8080)
        let after = IncrementalRender(snapshot: changed, reusing: before).result
        let web = after.artifacts.first { $0.path == "a/files/prometheus/file_sd/a_web_0.json" }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
        let all = after.artifacts.first { $0.path == "a/files/prometheus/file_sd/b_all_0.json" }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
        #expect(web.contains("127.0.0.1:8080") && !web.contains("127.0.0.2"), "the unchanged job's document is the previous one")
        #expect(all.contains("127.0.0.2:8080") && !all.contains("127.0.0.1"), "the edited job is encoded from the snapshot's pods")
    }

    @Test("a pod in a namespace the render has not seen asks for a full render")
    func unknownNamespaceNeedsFullRender() {
        var live = IncrementalRender(snapshot: Self.snapshot(pods: []))
        let stranger = Pod(metadata: ObjectMeta(name: "x", namespace: "new", labels: ["app": "web"]),
                           spec: PodSpec(containers: [Container(name: "c", ports: [ContainerPort(name: "node", containerPort: 9100)])]),
                           status: PodStatus(phase: "Running", podIP: "127.0.0.9"))
        #expect(live.apply([.upsert(stranger)]) == nil)
        #expect(live.isStale)
        #expect(live.apply([]) == nil)
    }

    @Test("a pod no job selects changes nothing")
    func unselectedPodChangesNothing() {
        var live = IncrementalRender(snapshot: Self.snapshot(pods: []))
        let before = live.result
        let idle = Pod(metadata: ObjectMeta(name: "idle", namespace: "a", labels: ["app": "db"]),
                       spec: PodSpec(containers: [Container(name: "c", ports: [ContainerPort(name: "metrics", containerPort: 8080)])]),
                       status: PodStatus(phase: "Running", podIP: "127.0.0.9"))
        let changed = live.apply([.upsert(idle)])
        #expect(changed?.isEmpty == true)
        #expect(live.result == before)
    }
}
