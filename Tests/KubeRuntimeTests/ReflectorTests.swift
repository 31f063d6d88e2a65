import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import KubeTesting
import Logging
import Testing

@Suite("Reflector against the test API server")
struct ReflectorTests {
    func pod(_ name: String) -> Node {
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default"], "spec": ["containers": [["name": "c"]]]]
    }

    func eventually(_ condition: @escaping () async -> Bool) async throws {
        if try await KubeTesting.eventually(timeout: .seconds(5), condition) != true { Issue.record("condition not met within 5 s") }
    }

    @Test("the store follows creates and deletes, and converges after dropped watches and a 410 with nothing lost")
    func converges() async throws {
        let server = try await TestAPIServer.start()
        let logger = Logger(label: "test")
        let client = try KubeClient(configuration: KubeConfiguration(server: server.url), logger: logger)
        let reflector = Reflector<Pod, ContinuousClock>(
            client: client, resource: .pods, clock: ContinuousClock(), logger: logger,
            key: { "\($0.metadata.namespace ?? "")/\($0.metadata.name)" }, resourceVersion: { $0.metadata.resourceVersion })
        _ = try await client.create(Node.self, .pods, namespace: "default", object: pod("before"))
        let runner = Task { await reflector.run() }
        await reflector.waitUntilReady()
        #expect(await reflector.snapshot()["default/before"] != nil)

        _ = try await client.create(Node.self, .pods, namespace: "default", object: pod("live"))
        try await eventually { await reflector.snapshot()["default/live"] != nil }

        // Watches dropped by the server: resumed without a relist.
        server.state.closeAllWatches()
        _ = try await client.create(Node.self, .pods, namespace: "default", object: pod("after-drop"))
        try await eventually { await reflector.snapshot()["default/after-drop"] != nil }
        #expect(await reflector.relists == 0)

        // History expired while disconnected: relist; a pod deleted meanwhile disappears.
        server.state.updateFaults { $0.failures = [.init(watch: true, status: 503, count: 1)] }
        server.state.closeAllWatches()
        try await client.delete(.pods, namespace: "default", name: "before")
        _ = try await client.create(Node.self, .pods, namespace: "default", object: pod("after-gone"))
        server.state.compact()
        try await eventually {
            let store = await reflector.snapshot()
            return store["default/before"] == nil && store["default/after-gone"] != nil
        }
        #expect(await reflector.relists >= 1)
        let names = await reflector.snapshot().objects.keys.sorted()
        #expect(names == ["default/after-drop", "default/after-gone", "default/live"])

        runner.cancel()
        await server.stop()
        _ = await runner.value
    }
}
