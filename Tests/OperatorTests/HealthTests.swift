import CurlTransport
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Logging
import RenderIO
import Testing

@Suite("Operator health and metrics endpoints")
struct HealthTests {
    @Test("/readyz turns ready after the first lists; /metrics exposes reconciles, cache sizes and queue depth")
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
        await harness.stop()
    }
}
