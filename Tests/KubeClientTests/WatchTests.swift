import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Synchronization
import Testing

/// Collects events until `count` arrived or the stream ends.
func collect<T>(_ stream: WatchStream<T>, count: Int) async throws -> [WatchEvent<T>] {
    var events: [WatchEvent<T>] = []
    for try await event in stream {
        events.append(event)
        if events.count == count { break }
    }
    return events
}

func describe(_ events: [WatchEvent<Pod>]) -> [String] {
    events.map { event in
        switch event {
        case .added(let pod): "ADDED \(pod.metadata.name)"
        case .modified(let pod): "MODIFIED \(pod.metadata.name)"
        case .deleted(let pod): "DELETED \(pod.metadata.name)"
        case .bookmark(_, let end): end ? "BOOKMARK end" : "BOOKMARK"
        case .unreadable(let object, let deleted): "\(deleted ? "DELETED" : "CHANGED") unreadable \(object.namespace ?? "")/\(object.name) at \(object.resourceVersion ?? "")"
        }
    }
}

@Suite("Watches against the test API server")
struct WatchTests {
    @Test("a watch from a list's resourceVersion sees every later change in order")
    func changesInOrder() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("a"))
            let list = try await client.list(Pod.self, .pods, namespace: "default")
            let stream = try await client.watch(Pod.self, .pods, namespace: "default", options: WatchOptions(resourceVersion: list.resourceVersion, allowBookmarks: false))
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("b"))
            _ = try await client.patch(Node.self, .pods, namespace: "default", name: "a", patch: .merge(["metadata": ["labels": ["x": "y"]]]))
            try await client.delete(.pods, namespace: "default", name: "b")
            let events = try await collect(stream, count: 3)
            stream.close()
            #expect(describe(events) == ["ADDED b", "MODIFIED a", "DELETED b"])
        }
    }

    @Test("after a normal close the watch resumes from the last resourceVersion: no relist, nothing missed, nothing repeated")
    func resumeAfterNormalClose() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let list = try await client.list(Pod.self, .pods, namespace: "default")
            var lastVersion = list.resourceVersion
            let first = try await client.watch(Pod.self, .pods, namespace: "default", options: WatchOptions(resourceVersion: lastVersion, allowBookmarks: false, timeoutSeconds: 1))
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("one"))
            var seen: [String] = []
            for try await event in first {
                if case .added(let pod) = event {
                    seen.append(pod.metadata.name)
                    lastVersion = pod.metadata.resourceVersion ?? lastVersion
                }
            }
            // The server closed the stream at timeoutSeconds; changes made meanwhile are not lost.
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("two"))
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("three"))
            let second = try await client.watch(Pod.self, .pods, namespace: "default", options: WatchOptions(resourceVersion: lastVersion, allowBookmarks: false))
            let rest = try await collect(second, count: 2)
            second.close()
            #expect(seen == ["one"])
            #expect(describe(rest) == ["ADDED two", "ADDED three"])
            let lists = cluster.server.state.recordedRequests.filter { $0.method == "GET" && $0.query["watch"] == nil && $0.path.hasSuffix("/pods") }
            #expect(lists.count == 1, "only the initial list; resuming needs no relist")
        }
    }

    @Test("bookmarks carry the current resourceVersion and a resume from one skips what came before")
    func bookmarks() async throws {
        var options = TestAPIServer.Options()
        options.eventWindow = 100
        try await withCluster(options: options) { cluster in
            cluster.server.state.updateFaults { $0.bookmarkInterval = .milliseconds(100) }
            let client = cluster.client
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("before"))
            let list = try await client.list(Pod.self, .pods)
            let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: list.resourceVersion))
            var bookmark: String?
            for try await event in stream {
                if case .bookmark(let version, let end) = event {
                    #expect(!end)
                    bookmark = version
                    break
                }
            }
            stream.close()
            #expect(bookmark == String(cluster.server.state.currentRevision))
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("after"))
            let resumed = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: bookmark, allowBookmarks: false))
            let events = try await collect(resumed, count: 1)
            resumed.close()
            #expect(describe(events) == ["ADDED after"])
        }
    }

    @Test("410: an ERROR event in the stream and an HTTP 410 at watch start both surface as expired")
    func gone() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let list = try await client.list(Pod.self, .pods)
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("p"))
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("q"))
            cluster.server.state.compact()
            let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: list.resourceVersion))
            let inStream = try await #require(throws: APIError.self) { _ = try await collect(stream, count: 10) }
            #expect(inStream.isExpired)
            #expect(inStream.code == 410)
            #expect(inStream.status.message?.contains("too old resource version") == true)

            cluster.server.state.updateFaults { $0.failures = [.init(watch: true, status: 410)] }
            let atStart = try await #require(throws: APIError.self) {
                _ = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: "1"))
            }
            #expect(atStart.isExpired)
        }
    }

    @Test("sendInitialEvents: initial ADDED then the initial-events-end bookmark; 422 when refused; nothing when ignored")
    func streamingList() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            cluster.server.state.seed(resource: "pods", objects: [podNode("x"), podNode("y")])
            let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(sendInitialEvents: true))
            let events = try await collect(stream, count: 3)
            stream.close()
            #expect(describe(events) == ["ADDED x", "ADDED y", "BOOKMARK end"])
            let watchRequest = try #require(cluster.server.state.recordedRequests.last { $0.query["watch"] != nil })
            #expect(watchRequest.query["resourceVersionMatch"] == "NotOlderThan")
            #expect(watchRequest.query["allowWatchBookmarks"] == "true")

            cluster.server.state.updateFaults { $0.watchListEnabled = false }
            let refused = try await #require(throws: APIError.self) { _ = try await client.watch(Pod.self, .pods, options: WatchOptions(sendInitialEvents: true)) }
            #expect(refused.code == 422)
            #expect(refused.description.contains("WatchList"))

            cluster.server.state.updateFaults { $0.watchListEnabled = true; $0.ignoreSendInitialEvents = true }
            let ignored = try await client.watch(Pod.self, .pods, options: WatchOptions(timeoutSeconds: 1, sendInitialEvents: true))
            var sawEnd = false
            var added = 0
            for try await event in ignored {
                if case .bookmark(_, true) = event { sawEnd = true }
                if case .added = event { added += 1 }
            }
            #expect(added == 2)
            #expect(!sawEnd, "a server that ignores sendInitialEvents sends no end marker; the caller must time out and fall back")
        }
    }

    @Test("objects over 64 KiB arrive whole; a malformed line ends the stream with its offset and no partial object")
    func framingOverTheWire() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: String(cluster.server.state.currentRevision), allowBookmarks: false))
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("big", padding: 200_000))
            let events = try await collect(stream, count: 1)
            stream.close()
            #expect(describe(events) == ["ADDED big"])

            let good = Array(#"{"type":"ADDED","object":{"metadata":{"name":"fine"}}}"#.utf8) + [0x0A]
            let bad = Array(#"{"type":"ADDED","object":{"metadata":{"name":"#.utf8) + [0x0A]
            cluster.server.state.updateFaults { $0.injectedWatchBytes = good + bad }
            let broken = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: String(cluster.server.state.currentRevision)))
            var names: [String] = []
            let failure = try await #require(throws: DecodingFailure.self) {
                for try await event in broken { if case .added(let pod) = event { names.append(pod.metadata.name) } }
            }
            #expect(names == ["fine"])
            #expect(failure.offset == good.count)
            #expect(failure.description.contains("at byte \(good.count)"))

            let status = Array(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"internal error","reason":"InternalError","code":500}"#.utf8) + [0x0A]
            cluster.server.state.updateFaults { $0.injectedWatchBytes = status }
            let bare = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: String(cluster.server.state.currentRevision)))
            let apiError = try await #require(throws: APIError.self) { _ = try await collect(bare, count: 5) }
            #expect(apiError.code == 500)
        }
    }

    @Test("objects nested deeper than Foundation reads (512) decode up to 1,000 levels; deeper ones (kube-apiserver stores up to 10,000) are reported as unreadable by name and the watch goes on")
    func deepObjectsDoNotStall() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            func nested(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
            func line(_ name: String, version: Int, spec: String = "{}") -> [UInt8] {
                Array(#"{"type":"ADDED","object":{"apiVersion":"netwatch.dev/v1alpha1","kind":"NetworkMonitor","metadata":{"name":"\#(name)","namespace":"shop","resourceVersion":"\#(version)"},"spec":\#(spec)}}"#.utf8) + [0x0A]
            }
            cluster.server.state.updateFaults {
                $0.injectedWatchBytes = line("before", version: 7) + line("deep", version: 8, spec: #"{"x":\#(nested(990))}"#)
                    + line("deeper", version: 9, spec: #"{"x":\#(nested(20_000))}"#) + line("after", version: 10)
            }
            let stream = try await client.watch(Node.self, .pods, options: WatchOptions(resourceVersion: String(cluster.server.state.currentRevision), allowBookmarks: false))
            let events = try await collect(stream, count: 4)
            stream.close()
            let described = events.map { event -> String in
                switch event {
                case .added(let node): "ADDED \(node["metadata"]?["name"]?.string ?? "")"
                case .unreadable(let object, _): "UNREADABLE \(object.kind ?? "")/\(object.namespace ?? "")/\(object.name) at \(object.resourceVersion ?? "")"
                default: "other"
                }
            }
            #expect(described == ["ADDED before", "ADDED deep", "UNREADABLE NetworkMonitor/shop/deeper at 9", "ADDED after"])
            if case .unreadable(let object, _) = events[2] {
                #expect(object.problem.contains("nested deeper than"), "\(object.problem)")
                let standIn = try #require(object.standIn(as: Node.self, resource: .pods))
                #expect(standIn["metadata"]?["annotations"]?[Node.unreadableAnnotation]?.string == object.problem)
                #expect(standIn["kind"] == "NetworkMonitor" && standIn["apiVersion"] == "netwatch.dev/v1alpha1")
            }
        }
    }

    @Test("a list page with an item that cannot be decoded keeps the other items and its metadata")
    func listKeepsReadableItems() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            for name in ["a", "b", "c"] { _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode(name)) }
            // Stored as the test server accepts it; a Pod whose containers are not a list cannot be decoded.
            _ = try await client.patch(Node.self, .pods, namespace: "default", name: "b", patch: .merge(["spec": ["containers": "not a list"]]))
            let pods = try await client.list(Pod.self, .pods, namespace: "default", options: ListOptions(limit: 2))
            #expect(pods.items.map(\.metadata.name) == ["a"])
            #expect(!pods.resourceVersion.isEmpty && pods.continueToken != nil)
            let all = try await client.listAll(Pod.self, .pods, namespace: "default")
            #expect(all.items.map(\.metadata.name) == ["a", "c"])
            let nodes = try await client.listAll(Node.self, .pods, namespace: "default")
            #expect(nodes.items.count == 3)
        }
    }

    @Test("a resourceVersion the server has not reached: after its 3 s wait, a watch gets an ERROR event and a list a 504, both with the cause ResourceVersionTooLarge")
    func resourceVersionTooLarge() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let ahead = String(cluster.server.state.currentRevision + 100)
            async let watched: APIError? = {
                do {
                    let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: ahead))
                    for try await _ in stream {}
                    return nil
                } catch let error as APIError { return error }
            }()
            async let listed: APIError? = {
                do { _ = try await client.list(Pod.self, .pods, options: ListOptions(resourceVersion: ahead)); return nil } catch let error as APIError { return error }
            }()
            let (watchError, listError) = try await (watched, listed)
            #expect(watchError?.isResourceVersionTooLarge == true && watchError?.code == 504, "\(String(describing: watchError))")
            #expect(listError?.isResourceVersionTooLarge == true && listError?.retryAfterSeconds == 1, "\(String(describing: listError))")
        }
    }

    @Test("a consumer that lags pauses the transfer and still gets every event in order")
    func backpressure() async throws {
        var transport = CurlTransport.Options()
        transport.streamBufferBytes = 64 * 1024
        try await withCluster(transportOptions: transport) { cluster in
            let objects = (0..<150).map { podNode(String(format: "pod-%03d", $0), padding: 20_000) }
            cluster.server.state.seed(resource: "pods", objects: objects)
            let stream = try await cluster.client.watch(Pod.self, .pods, options: WatchOptions(allowBookmarks: false))
            var names: [String] = []
            for try await event in stream {
                if case .added(let pod) = event { names.append(pod.metadata.name) }
                if names.count == 150 { break }
                if names.count % 10 == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            stream.close()
            #expect(names == (0..<150).map { String(format: "pod-%03d", $0) })
            #expect(cluster.transport.statistics.pauses.load(ordering: .relaxed) > 0)
        }
    }

    @Test("cancelling the task that reads a watch ends it promptly")
    func cancellation() async throws {
        try await withCluster { cluster in
            let stream = try await cluster.client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: String(cluster.server.state.currentRevision), allowBookmarks: false))
            let reader = Task { try await collect(stream, count: 1) }
            try await Task.sleep(for: .milliseconds(100))
            reader.cancel()
            let result = await reader.result
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }

    @Test("a label-selector watch sees an object that stops matching as DELETED")
    func selectorTransitions() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode("w", labels: ["app": "web"]))
            let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: String(cluster.server.state.currentRevision), labelSelector: "app=web", allowBookmarks: false))
            _ = try await client.patch(Node.self, .pods, namespace: "default", name: "w", patch: .merge(["metadata": ["labels": ["app": "api"]]]))
            _ = try await client.patch(Node.self, .pods, namespace: "default", name: "w", patch: .merge(["metadata": ["labels": ["app": "web"]]]))
            let events = try await collect(stream, count: 2)
            stream.close()
            #expect(describe(events) == ["DELETED w", "ADDED w"])
        }
    }
}

@Suite("Watch faults")
struct WatchFaultTests {
    @Test("a watch dropped mid-stream ends without an error; resuming from the last resourceVersion loses nothing")
    func droppedMidStream() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let start = String(cluster.server.state.currentRevision)
            for name in ["a", "b", "c", "d"] { _ = try await client.create(Node.self, .pods, namespace: "default", object: podNode(name)) }
            cluster.server.state.updateFaults { $0.closeWatchesAfterEvents = 2 }
            var names: [String] = []
            var last = start
            for _ in 0..<2 {
                let stream = try await client.watch(Pod.self, .pods, options: WatchOptions(resourceVersion: last, allowBookmarks: false))
                for try await event in stream {
                    if case .added(let pod) = event {
                        names.append(pod.metadata.name)
                        last = pod.metadata.resourceVersion ?? last
                    }
                }
            }
            #expect(names == ["a", "b", "c", "d"])
        }
    }
}
