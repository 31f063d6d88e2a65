import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Logging
import Testing

@Suite("Client reads against the test API server")
struct ClientReadTests {
    @Test("paged list: every item once, continuation pages carry no resourceVersion, one snapshot version")
    func pagedList() async throws {
        try await withCluster(pageSize: 10) { cluster in
            cluster.server.state.seed(resource: "pods", objects: (0..<25).map { podNode(String(format: "pod-%02d", $0), labels: ["app": $0 % 2 == 0 ? "even" : "odd"]) })
            let list = try await cluster.client.listAll(Pod.self, .pods, options: ListOptions(resourceVersion: "0"))
            #expect(list.items.map(\.metadata.name) == (0..<25).map { String(format: "pod-%02d", $0) })
            #expect(list.items.first?.status.podIP == "127.0.0.1")
            // This client's requests (its page size is 10): under a parallel run a client another
            // test left retrying may reach a server that now has its old port.
            let requests = cluster.server.state.recordedRequests.filter { $0.path == "/api/v1/pods" && $0.query["limit"] == "10" }
            #expect(requests.count == 3)
            #expect(requests[0].query["resourceVersion"] == "0")
            #expect(requests.dropFirst().allSatisfy { $0.query["resourceVersion"] == nil && $0.query["continue"] != nil }, "\(requests)")

            let even = try await cluster.client.listAll(Pod.self, .pods, options: ListOptions(labelSelector: "app in (even)"))
            #expect(even.items.count == 13)
            let named = try await cluster.client.list(Pod.self, .pods, namespace: "default", options: ListOptions(fieldSelector: "metadata.name=pod-07"))
            #expect(named.items.map(\.metadata.name) == ["pod-07"])
        }
    }

    @Test("an expired continue token falls back to one full list and never reuses the token")
    func expiredContinue() async throws {
        try await withCluster(pageSize: 10) { cluster in
            cluster.server.state.seed(resource: "pods", objects: (0..<25).map { podNode("pod-\($0)") })
            cluster.server.state.updateFaults { $0.expireContinueTokens = true }
            let list = try await cluster.client.listAll(Pod.self, .pods)
            #expect(list.items.count == 25)
            let requests = cluster.server.state.recordedRequests.filter { $0.path == "/api/v1/pods" }
            #expect(requests.count == 3, "first page, the expired continuation, one full list")
            #expect(requests[1].query["continue"] != nil)
            #expect(requests[2].query["limit"] == nil && requests[2].query["continue"] == nil)
        }
    }

    @Test("429 with Retry-After and 500 on reads are retried; 500 on writes is not")
    func throttlingAndServerErrors() async throws {
        try await withCluster { cluster in
            let state = cluster.server.state
            state.updateFaults { $0.failures = [.init(method: "GET", status: 429, retryAfterSeconds: 1, count: 1), .init(method: "GET", status: 500, count: 2)] }
            let clock = ContinuousClock()
            let start = clock.now
            let namespace = try await cluster.client.get(Node.self, .namespaces, name: "default")
            #expect(namespace["metadata"]?["name"] == "default")
            #expect(clock.now - start >= .seconds(1), "Retry-After was honoured")
            #expect(state.recordedRequests.filter { $0.method == "GET" }.count == 4)

            state.updateFaults { $0.failures = [.init(method: "POST", status: 500, count: 1)] }
            let error = try await #require(throws: APIError.self) {
                _ = try await cluster.client.create(Node.self, .configMaps, namespace: "default", object: configMapNode("x", data: [:]))
            }
            #expect(error.isServerError)
            #expect(state.recordedRequests.filter { $0.method == "POST" }.count == 1)
        }
    }

    @Test("403 names the verb and resource the identity lacks")
    func forbidden() async throws {
        try await withCluster { cluster in
            cluster.server.state.updateFaults { $0.failures = [.init(status: 403)] }
            let error = try await #require(throws: APIError.self) {
                _ = try await cluster.client.list(Node.self, .leases, namespace: "monitoring")
            }
            #expect(error.isForbidden)
            #expect(error.description.contains("lacks 'list' on 'leases.coordination.k8s.io' in namespace monitoring"))
        }
    }

    @Test("a non-JSON error page and a truncated body become errors with the bytes, not crashes")
    func badBodies() async throws {
        try await withCluster { cluster in
            // A 502 from a proxy: not a Status.
            cluster.server.state.updateFaults { $0.failures = [.init(method: "POST", status: 502)] }
            let gateway = try await #require(throws: APIError.self) {
                _ = try await cluster.client.create(Node.self, .configMaps, namespace: "default", object: configMapNode("x", data: [:]))
            }
            #expect(gateway.code == 502)
            // A body that does not decode into the requested type.
            _ = try await cluster.client.create(Node.self, .configMaps, namespace: "default", object: configMapNode("y", data: ["k": "v"]))
            struct Wrong: Decodable, Sendable { var data: [String: Int] }
            let failure = try await #require(throws: DecodingFailure.self) {
                _ = try await cluster.client.get(Wrong.self, .configMaps, namespace: "default", name: "y")
            }
            #expect(failure.description.contains("/api/v1/namespaces/default/configmaps/y"))
        }
    }

    @Test("transport errors say what failed and where: refused connection, timeout")
    func transportErrors() async throws {
        try await withCluster { cluster in
            cluster.server.state.updateFaults { $0.delay = .seconds(3) }
            let transport = try CurlTransportFactory.make()
            let request = HTTPRequest(method: "GET", url: cluster.server.url + "/version", timeout: .milliseconds(300))
            let timedOut = try await #require(throws: TransportError.self) { _ = try await transport.send(request) }
            #expect(timedOut.kind == .timedOut)
        }
        let refused = KubeClient(configuration: KubeConfiguration(server: "http://127.0.0.1:1"), transport: try CurlTransportFactory.make(), logger: .init(label: "t"), retryPolicy: .init(maxServerErrorRetries: 1, initialBackoff: .milliseconds(5)))
        let error = try await #require(throws: TransportError.self) { _ = try await refused.get(Node.self, .namespaces, name: "x") }
        #expect(error.kind == .couldNotConnect)
        #expect(error.description.contains("GET http://127.0.0.1:1/api/v1/namespaces/x"))
    }
}
