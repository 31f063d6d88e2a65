import DataTree
import KubeClient
import KubeModel
import KubeTesting
import Testing

@Suite("Initial list: streaming list with fallbacks")
struct InitialListTests {
    static let key: @Sendable (Pod) -> String = { "\($0.metadata.namespace ?? "")/\($0.metadata.name)" }

    @Test("streaming list: events before the end marker are applied in order, and the watch continues after it")
    func streamingList() async throws {
        try await withCluster { cluster in
            cluster.server.state.seed(resource: "pods", objects: [podNode("a"), podNode("b")])
            // A pod added and deleted during the initial phase must not be in the result.
            let added = #"{"type":"ADDED","object":{"metadata":{"name":"gone","namespace":"default"}}}"#
            let deleted = #"{"type":"DELETED","object":{"metadata":{"name":"gone","namespace":"default"}}}"#
            cluster.server.state.updateFaults { $0.injectedWatchBytes = Array((added + "\n" + deleted + "\n").utf8) }
            let initial = try await cluster.client.initialList(Pod.self, .pods, key: Self.key)
            #expect(initial.method == .streamingList)
            #expect(initial.items.map(\.metadata.name) == ["a", "b"])
            #expect(initial.resourceVersion == String(cluster.server.state.currentRevision))
            let watch = try #require(initial.watch)
            _ = try await cluster.client.create(Node.self, .pods, namespace: "default", object: podNode("c"))
            var iterator = watch.makeAsyncIterator()
            var next = try await iterator.next()
            while case .bookmark? = next { next = try await iterator.next() }
            guard case .added(let pod)? = next else { Issue.record("expected ADDED c, got \(String(describing: next))"); return }
            #expect(pod.metadata.name == "c")
            watch.close()
            #expect(cluster.server.state.recordedRequests.filter { $0.path == "/api/v1/pods" && $0.query["watch"] == nil }.isEmpty, "no list request")
        }
    }

    @Test("a server that refuses sendInitialEvents (422) gets a paginated list")
    func refused() async throws {
        try await withCluster { cluster in
            cluster.server.state.seed(resource: "pods", objects: [podNode("a")])
            cluster.server.state.updateFaults { $0.watchListEnabled = false }
            let initial = try await cluster.client.initialList(Pod.self, .pods, key: Self.key)
            #expect(initial.method == .list(reason: "the server refused sendInitialEvents (HTTP 422)"))
            #expect(initial.items.map(\.metadata.name) == ["a"])
            #expect(initial.watch.map { _ in true } == nil)
        }
    }

    @Test("a server that ignores sendInitialEvents (no end marker) gets a list after the timeout")
    func ignored() async throws {
        try await withCluster { cluster in
            cluster.server.state.seed(resource: "pods", objects: [podNode("a"), podNode("b")])
            cluster.server.state.updateFaults { $0.ignoreSendInitialEvents = true }
            let initial = try await cluster.client.initialList(Pod.self, .pods, endMarkerTimeout: .milliseconds(500), key: Self.key)
            guard case .list = initial.method else { Issue.record("expected the list fallback"); return }
            #expect(initial.items.map(\.metadata.name) == ["a", "b"])
        }
    }
}
