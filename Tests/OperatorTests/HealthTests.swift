import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Logging
import RenderIO
import Testing

@Suite("Operator health and metrics endpoints")
struct HealthTests {
    @Test("/readyz turns ready after the first lists; /metrics exposes reconciles, cache sizes, queue depth and pods' workloads")
    func endpoints() async throws {
        let port = freeLoopbackPort()
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-health-\(UUID().uuidString)").path
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document), outputDirectory: output, healthPort: port)
        let http = try CurlTransport(logger: Logger(label: "t"))
        func get(_ path: String) async -> HTTPResponse? { try? await http.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)\(path)")) }

        #expect(try await eventually { await get("/healthz")?.head.status == 200 })
        #expect(try await eventually { await get("/readyz")?.head.status == 200 })
        #expect(try await eventually { !tree(output).isEmpty })
        let metrics = String(decoding: await get("/metrics")?.body ?? [], as: UTF8.self)
        #expect(metrics.contains("netwatch_reconciles_total "))
        #expect(metrics.contains(#"netwatch_objects_cached{resource="pods"} 6"#), "\(metrics)")
        #expect(metrics.contains("netwatch_queue_depth "))
        #expect(metrics.contains("netwatch_reconcile_duration_seconds_bucket"))

        // Pods of the namespaces the stacks scrape, with the workload that owns them: a
        // ReplicaSet's pod as its Deployment, an unowned pod as itself.
        let owned: Node = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "web-5f7c9d8b6-xk2p9", "namespace": "shop", "labels": ["app": "web", "pod-template-hash": "5f7c9d8b6"],
                         "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5f7c9d8b6", "uid": "rs-1", "controller": true]]],
            "spec": ["containers": [["name": "web"]]],
        ]
        _ = try await harness.client.create(Node.self, .pods, namespace: "shop", object: owned)
        let deployment = #"netwatch_pod_workload{namespace="shop",pod="web-5f7c9d8b6-xk2p9",workload="web",workload_kind="Deployment",host_network="false"} 1"#
        var latest = ""
        #expect(try await eventually {
            latest = String(decoding: await get("/metrics")?.body ?? [], as: UTF8.self)
            return latest.contains(deployment)
        }, "\(latest)")
        #expect(latest.contains(#"netwatch_pod_workload{namespace="shop",pod="web-7d4b9c6f5-abcde",workload="web-7d4b9c6f5-abcde",workload_kind="Pod",host_network="false"} 1"#))
        try await harness.client.delete(.pods, namespace: "shop", name: "web-5f7c9d8b6-xk2p9")
        #expect(try await eventually { !String(decoding: await get("/metrics")?.body ?? [], as: UTF8.self).contains(deployment) }, "a deleted pod's series goes")
        await harness.stop()
    }

    @Test("/readyz turns not ready, naming the kind, while one watched kind keeps failing to sync, and ready again once it syncs")
    func kindThatCannotSync() async throws {
        let port = freeLoopbackPort()
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-sync-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document), outputDirectory: output, healthPort: port)
        let http = try CurlTransport(logger: Logger(label: "t"))
        func get(_ path: String) async -> HTTPResponse? { try? await http.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)\(path)")) }
        #expect(try await eventually { await get("/readyz")?.head.status == 200 })

        // Every new watch or list of NetworkMonitors fails; the open watches are dropped.
        harness.server.state.updateFaults { $0.failures = [.init(method: "GET", pathContains: "/networkmonitors", status: 500, count: 1_000)] }
        harness.server.state.closeAllWatches()
        #expect(try await eventually(timeout: .seconds(30)) { await get("/readyz")?.head.status == 503 })
        let body = String(decoding: await get("/readyz")?.body ?? [], as: UTF8.self)
        #expect(body.contains("networkmonitors.netwatch.dev cannot sync"), "\(body)")

        harness.server.state.updateFaults { $0.failures = [] }
        #expect(try await eventually(timeout: .seconds(60)) { await get("/readyz")?.head.status == 200 })
        await harness.stop()
    }
}
