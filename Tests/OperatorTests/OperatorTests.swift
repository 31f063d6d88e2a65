import ConfigGen
import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import KubeTesting
import Logging
import Prometheus
import Operator
import RenderIO
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Every file under `root` (relative path → bytes), skipping netwatch's own manifest.
func tree(_ root: String) -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return files }
    while let path = enumerator.nextObject() as? String {
        var isDirectory: ObjCBool = false
        let full = root + "/" + path
        if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue, path != OutputDirectory.manifestName,
           let data = FileManager.default.contents(atPath: full) {
            files[path] = [UInt8](data)
        }
    }
    return files
}

@Suite("Operator against the test API server")
struct OperatorTests {
    @Test("in-cluster output equals `netwatch render` of the same manifests, byte for byte, and follows pod and monitor changes")
    func followsTheCluster() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-operator-\(UUID().uuidString)").path
        let gitops = temporary + "/gitops", live = temporary + "/live"
        let (snapshot, _) = Snapshot.decode(loaded.objects)
        _ = try OutputDirectory(root: gitops).write(render(snapshot, options: NetwatchOperator.renderOptions).artifacts)

        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document), outputDirectory: live)
        let client = harness.client

        let expected = tree(gitops)
        #expect(!expected.isEmpty)
        let converged = try await eventually { tree(live) == expected }
        #expect(converged, "operator output differs from render: \(Set(tree(live).keys).symmetricDifference(expected.keys).sorted())")
        // Wait until full renders have settled (every kind listed, status writes come back
        // through the watch and are ignored) before taking the baseline.
        var fullRenders = harness.counter("netwatch_renders_total{mode=\"full\"}")
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(700))
            let now = harness.counter("netwatch_renders_total{mode=\"full\"}")
            if now == fullRenders { break }
            fullRenders = now
        }

        // A new pod in a monitored namespace changes only file_sd files (no prometheus.yml
        // rewrite), through the incremental path. Under a loaded parallel run a late change
        // batch from the initial lists can still queue one more full render, which takes the
        // pending pod with it; then the next pod must go the incremental way.
        var created: [Node] = []
        var incrementalSeen = false
        for attempt in 0..<3 where !incrementalSeen {
            let before = tree(live)
            let fullBefore = harness.counter("netwatch_renders_total{mode=\"full\"}")
            let incrementalBefore = harness.counter("netwatch_renders_total{mode=\"incremental\"}")
            let ip = "127.0.0.\(42 + attempt)"
            let pod: Node = [
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": .string("web-new-\(attempt)"), "namespace": "shop", "uid": .string("uid-web-new-\(attempt)"), "labels": ["app": "web", "tier": "frontend"]],
                "spec": ["containers": [["name": "web", "ports": [["name": "metrics", "containerPort": 9090]]]]],
                "status": ["phase": "Running", "podIP": .string(ip)],
            ]
            _ = try await client.create(Node.self, .pods, namespace: "shop", object: pod)
            created.append(pod)
            let podSeen = try await eventually { tree(live).values.contains { String(decoding: $0, as: UTF8.self).contains(ip) } }
            #expect(podSeen)
            let after = tree(live)
            let changed = after.keys.filter { after[$0] != before[$0] }.sorted()
            #expect(!changed.isEmpty)
            #expect(changed.allSatisfy { !$0.hasSuffix("prometheus.yml") && !$0.contains("prometheus-shard") }, "\(changed)")
            if harness.counter("netwatch_renders_total{mode=\"full\"}") == fullBefore {
                #expect(harness.counter("netwatch_renders_total{mode=\"incremental\"}") > incrementalBefore)
                incrementalSeen = true
            }
        }
        #expect(incrementalSeen, "every new pod was taken by a full render; the incremental path was never used")
        // ... and the result is still what `netwatch render` gives for the same objects.
        var withPods = loaded.objects
        for pod in created { withPods += ObjectReader.rawObjects(from: pod, source: nil).0 }
        let (snapshotWithPods, _) = Snapshot.decode(withPods)
        let gitopsWithPods = temporary + "/gitops-pod"
        _ = try OutputDirectory(root: gitopsWithPods).write(render(snapshotWithPods, options: NetwatchOperator.renderOptions).artifacts)
        #expect(tree(live) == tree(gitopsWithPods))

        // Deleting every NetworkMonitor empties the file_sd directory of the static stack.
        let monitors = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkmonitors", kind: "NetworkMonitor", namespaced: true)
        for object in loaded.objects where object.type.kind == "NetworkMonitor" {
            try await client.delete(monitors, namespace: object.metadata.namespace, name: object.metadata.name)
        }
        let pruned = try await eventually { !tree(live).keys.contains { $0.contains("file_sd/") } }
        #expect(pruned)

        await harness.stop()
    }
}

extension ManifestLoader {
    /// netwatch's CRDs as documents.
    static func crds() -> [Node] {
        ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/crds").path]).objects.map(\.document)
    }
}

/// A test API server holding `objects` (after netwatch's CRDs) and an operator running against it.
struct OperatorHarness {
    let server: TestAPIServer
    let client: KubeClient
    let netwatch: NetwatchOperator
    let running: Task<Void, Never>

    /// Waits until the operator has handled `object` as the API server returned it from a
    /// write (the same resourceVersion in its cache) and everything that implies: the event to
    /// wait for before asserting that something did *not* happen.
    func settled(after object: Node, _ resource: APIResource) async throws {
        let metadata = object["metadata"]
        let handled = try await eventually {
            let cached = await netwatch.cachedResourceVersion(resource, namespace: metadata?["namespace"]?.string, name: metadata?["name"]?.string ?? "")
            guard cached == metadata?["resourceVersion"]?.string else { return false }
            return await netwatch.isSettled()
        }
        #expect(handled, "the operator did not settle after \(resource.kind) \(metadata?["name"]?.string ?? "")")
    }

    /// A sample's value from the operator's registry, e.g. `netwatch_renders_total{mode="full"}`; 0 when absent.
    func counter(_ sample: String) -> Double {
        let text = netwatch.metrics.exposition
        let line = text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    static func start(objects: [Node], outputDirectory: String?, healthPort: Int? = nil, webhook: NetwatchOperator.WebhookSettings? = nil,
                      flowInterval: Duration = .seconds(10), leaseNamespace: String? = nil, optionalKindsInterval: Duration = .seconds(30),
                      wallClock: WallClock = .system) async throws -> OperatorHarness {
        let server = try await TestAPIServer.start()
        #expect(server.state.load(ManifestLoader.crds() + objects).isEmpty)
        var logger = Logger(label: "operator")
        logger.logLevel = ProcessInfo.processInfo.environment["NETWATCH_TEST_LOG"] == nil ? .warning : .debug
        let client = try KubeClient(configuration: KubeConfiguration(server: server.url), logger: logger)
        var options = NetwatchOperator.Options(outputDirectory: outputDirectory, leaseNamespace: leaseNamespace, healthAddress: healthPort.map { ("127.0.0.1", $0) }, webhook: webhook,
                                               flowListenHost: "127.0.0.1", flowInterval: flowInterval)
        options.optionalKindsInterval = optionalKindsInterval
        options.wallClock = wallClock
        let netwatch = NetwatchOperator(client: client, options: options, logger: logger, transport: try CurlTransport(logger: logger))
        return OperatorHarness(server: server, client: client, netwatch: netwatch, running: Task { await netwatch.run() })
    }

    func stop() async {
        running.cancel()
        await running.value
        await server.stop()
    }
}

@Suite("Operator reads prometheus-operator resources when their CRDs exist")
struct PrometheusOperatorResourceTests {
    static func prometheusOperatorCRD(plural: String, kind: String) -> Node {
        [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(plural).monitoring.coreos.com")],
            "spec": [
                "group": "monitoring.coreos.com", "scope": "Namespaced",
                "names": ["plural": .string(plural), "singular": .string(kind.lowercased()), "kind": .string(kind), "listKind": .string(kind + "List")],
                "versions": [["name": "v1", "served": true, "storage": true,
                              "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]],
            ],
        ]
    }

    static let podMonitorCRD = prometheusOperatorCRD(plural: "podmonitors", kind: "PodMonitor")

    @Test("a PodMonitor is scraped like a NetworkMonitor; without its CRD the operator runs as before")
    func podMonitorIsRendered() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let podMonitor: Node = [
            "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
            "metadata": ["name": "ledger-pm", "namespace": "payments"],
            "spec": ["selector": ["matchLabels": ["app.kubernetes.io/name": "ledger"]], "podMetricsEndpoints": [["port": "metrics", "interval": "15s"]]],
        ]
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-pm-\(UUID().uuidString)").path
        let harness = try await OperatorHarness.start(objects: [Self.podMonitorCRD] + loaded.objects.map(\.document) + [podMonitor], outputDirectory: live)
        let file = live + "/monitoring/edge/prometheus/file_sd/podMonitor_payments_ledger-pm_0.json"
        let rendered = try await eventually { (try? String(contentsOfFile: file, encoding: .utf8))?.contains("10.42.2.30:9187") == true }
        #expect(rendered)
        let config = (try? String(contentsOfFile: live + "/monitoring/edge/prometheus/prometheus.yml", encoding: .utf8)) ?? ""
        #expect(config.contains("job_name: podMonitor/payments/ledger-pm/0"))
        // The same objects rendered offline give the same files.
        let (snapshot, _) = Snapshot.decode(loaded.objects + ObjectReader.rawObjects(from: podMonitor, source: nil).0)
        let expected = render(snapshot).artifacts.first { $0.path == "monitoring/edge/prometheus/file_sd/podMonitor_payments_ledger-pm_0.json" }
        #expect(expected?.bytes == FileManager.default.contents(atPath: file).map { [UInt8]($0) })
        await harness.stop()
    }

    @Test("installing the PodMonitor CRD while the operator runs starts its watch without a restart; removing it stops the watch and its jobs go")
    func optionalKindAppearsAtRunTime() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-pm-late-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: live) }
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document), outputDirectory: live, optionalKindsInterval: .milliseconds(200))
        let config = live + "/monitoring/edge/prometheus/prometheus.yml"
        #expect(try await eventually { FileManager.default.fileExists(atPath: config) })

        let crds = APIResource(group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false)
        _ = try await harness.client.create(Node.self, crds, object: Self.podMonitorCRD)
        let podMonitors = APIResource(group: "monitoring.coreos.com", version: "v1", resource: "podmonitors", kind: "PodMonitor", namespaced: true)
        _ = try await harness.client.create(Node.self, podMonitors, namespace: "payments", object: [
            "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": ["name": "ledger-pm", "namespace": "payments"],
            "spec": ["selector": ["matchLabels": ["app.kubernetes.io/name": "ledger"]], "podMetricsEndpoints": [["port": "metrics"]]],
        ])
        func job() -> Bool { ((try? String(contentsOfFile: config, encoding: .utf8)) ?? "").contains("job_name: podMonitor/payments/ledger-pm/0") }
        #expect(try await eventually { job() }, "the PodMonitor is rendered once its CRD is seen")

        try await harness.client.delete(crds, name: "podmonitors.monitoring.coreos.com")
        #expect(try await eventually { !job() }, "its job goes with the CRD")
        await harness.stop()
    }

    @Test("the timestamps the operator writes come from its injected wall clock: conditions, Events and the lease")
    func injectedWallClock() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let broken: Node = [
            "apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkMonitor", "metadata": ["name": "broken", "namespace": "shop"],
            "spec": ["selector": [:], "endpoints": [["port": "metrics", "interval": "10s", "scrapeTimeout": "20s"]]],
        ]
        let fixed = Date(timeIntervalSince1970: 1_900_000_000)  // 2030-03-17T17:46:40Z
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document) + [broken], outputDirectory: nil, leaseNamespace: "monitoring", wallClock: .fixed(fixed))
        let client = harness.client
        let monitors = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkmonitors", kind: "NetworkMonitor", namespaced: true)
        func condition() async -> Node? {
            try? await client.get(Node.self, monitors, namespace: "shop", name: "broken")["status"]?["conditions"]?.sequence?.first
        }
        // Generous waits: a full render and its status writes, in a parallel test run on 2 cores.
        #expect(try await eventually(timeout: .seconds(30)) { await condition()?["lastTransitionTime"] == "2030-03-17T17:46:40Z" })
        let events = APIResource(group: "", version: "v1", resource: "events", kind: "Event", namespaced: true)
        #expect(try await eventually {
            try await client.list(Node.self, events, namespace: "shop").items.contains { $0["involvedObject"]?["name"] == "broken" && $0["lastTimestamp"] == "2030-03-17T17:46:40Z" }
        })
        let leases = APIResource(group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true)
        #expect(try await eventually { (try? await client.get(Node.self, leases, namespace: "monitoring", name: "netwatch-operator"))?["spec"]?["renewTime"] == "2030-03-17T17:46:40.000000Z" })
        await harness.stop()
    }

    @Test("a NetworkMonitor deleted and created again under the same name gets its status again (status is kept by uid)")
    func recreatedMonitorGetsStatus() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document), outputDirectory: nil)
        let client = harness.client
        let monitors = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkmonitors", kind: "NetworkMonitor", namespaced: true)
        let monitor: Node = [
            "apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkMonitor", "metadata": ["name": "again", "namespace": "shop"],
            "spec": ["selector": [:], "endpoints": [["port": "metrics"]]],
        ]
        for round in 0..<3 {
            _ = try await client.create(Node.self, monitors, namespace: "shop", object: monitor)
            let accepted = try await eventually(timeout: .seconds(30)) {
                let status = try? await client.get(Node.self, monitors, namespace: "shop", name: "again")["status"]
                return status?["conditions"]?.sequence?.first { $0["type"] == "Accepted" }?["status"] == "True"
            }
            #expect(accepted, "round \(round): no status on the recreated monitor")
            try await client.delete(monitors, namespace: "shop", name: "again")
            _ = try await eventually { (try? await client.get(Node.self, monitors, namespace: "shop", name: "again")) == nil }
        }
        await harness.stop()
    }

    @Test("a ServiceMonitor under static discovery follows its Service's EndpointSlices, watched because ServiceMonitors are served")
    func serviceMonitorFollowsEndpointSlices() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let crd = Self.prometheusOperatorCRD(plural: "servicemonitors", kind: "ServiceMonitor")
        let serviceMonitor: Node = [
            "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": ["name": "ledger-sm", "namespace": "payments"],
            "spec": ["selector": ["matchLabels": ["app.kubernetes.io/name": "ledger"]], "endpoints": [["port": "metrics"]]],
        ]
        let service: Node = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "ledger", "namespace": "payments", "labels": ["app.kubernetes.io/name": "ledger"]],
            "spec": ["selector": ["app.kubernetes.io/name": "ledger"], "ports": [["name": "metrics", "port": 9187]]],
        ]
        func slice(_ addresses: [(String, String)]) -> Node {
            [
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": ["name": "ledger-abc", "namespace": "payments", "labels": ["kubernetes.io/service-name": "ledger"]],
                "addressType": "IPv4",
                "endpoints": .sequence(addresses.map { ip, pod in
                    ["addresses": [.string(ip)], "conditions": ["ready": true], "targetRef": ["kind": "Pod", "name": .string(pod), "namespace": "payments"]]
                }),
                "ports": [["name": "metrics", "port": 9187, "protocol": "TCP"]],
            ]
        }
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-sm-\(UUID().uuidString)").path
        let harness = try await OperatorHarness.start(
            objects: [crd] + loaded.objects.map(\.document) + [serviceMonitor, service, slice([("10.42.2.30", "ledger-0")])], outputDirectory: live)
        let file = live + "/monitoring/edge/prometheus/file_sd/serviceMonitor_payments_ledger-sm_0.json"
        func contents() -> String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
        let rendered = try await eventually { contents().contains("10.42.2.30:9187") }
        #expect(rendered, "\(contents())")
        #expect(contents().contains(#""__meta_kubernetes_pod_name":"ledger-0""#))
        // A second endpoint in the slice reaches the file without any other change.
        _ = try await harness.client.apply(Node.self, .endpointSlices, namespace: "payments", name: "ledger-abc",
                                            object: slice([("10.42.2.30", "ledger-0"), ("10.42.0.31", "ledger-1")]), fieldManager: "test", force: true)
        let followed = try await eventually { contents().contains("10.42.0.31:9187") }
        #expect(followed, "\(contents())")
        await harness.stop()
    }
}
