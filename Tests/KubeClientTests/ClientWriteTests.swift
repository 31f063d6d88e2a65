import DataTree
import KubeClient
import KubeModel
import KubeTesting
import Testing

@Suite("Client writes against the test API server")
struct ClientWriteTests {
    @Test("create, get, conditional update: a stale resourceVersion is a 409 conflict")
    func createGetUpdateConflict() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let created = try await client.create(ConfigMapView.self, .configMaps, namespace: "default", object: configMapNode("cfg", data: ["a": "1"]))
            #expect(created.data == ["a": "1"])
            let version = try #require(created.metadata.resourceVersion)

            var changed = configMapNode("cfg", data: ["a": "2"])
            changed = setting(.string(version), at: ["metadata", "resourceVersion"], in: changed)
            let updated = try await client.replace(ConfigMapView.self, .configMaps, namespace: "default", name: "cfg", object: changed)
            #expect(updated.data == ["a": "2"])
            #expect(updated.metadata.resourceVersion != version)

            // The same precondition again is now stale.
            let stale = setting(.string(version), at: ["metadata", "resourceVersion"], in: configMapNode("cfg", data: ["a": "3"]))
            let error = try await #require(throws: APIError.self) {
                _ = try await client.replace(ConfigMapView.self, .configMaps, namespace: "default", name: "cfg", object: stale)
            }
            #expect(error.isConflict)
            #expect(error.description.contains("read it again and retry"))
            #expect(try await client.get(ConfigMapView.self, .configMaps, namespace: "default", name: "cfg").data == ["a": "2"])

            let exists = try await #require(throws: APIError.self) {
                _ = try await client.create(ConfigMapView.self, .configMaps, namespace: "default", object: configMapNode("cfg", data: [:]))
            }
            #expect(exists.isAlreadyExists)
        }
    }

    @Test("merge patch and JSON patch; a failing JSON-patch test changes nothing")
    func patches() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            _ = try await client.create(ConfigMapView.self, .configMaps, namespace: "default", object: configMapNode("cfg", data: ["a": "1", "b": "2"]))
            let merged = try await client.patch(ConfigMapView.self, .configMaps, namespace: "default", name: "cfg", patch: .merge(["data": ["b": .null, "c": "3"]]))
            #expect(merged.data == ["a": "1", "c": "3"])

            let patched = try await client.patch(ConfigMapView.self, .configMaps, namespace: "default", name: "cfg", patch: .json([
                ["op": "test", "path": "/data/a", "value": "1"],
                ["op": "replace", "path": "/data/a", "value": "10"],
                ["op": "add", "path": "/metadata/labels", "value": ["x/y": "z"]],
            ]))
            #expect(patched.data?["a"] == "10")

            let failed = try await #require(throws: APIError.self) {
                _ = try await client.patch(ConfigMapView.self, .configMaps, namespace: "default", name: "cfg", patch: .json([
                    ["op": "test", "path": "/data/a", "value": "1"],
                    ["op": "replace", "path": "/data/a", "value": "99"],
                ]))
            }
            #expect(failed.code == 422)
            let node = try await client.get(Node.self, .configMaps, namespace: "default", name: "cfg")
            #expect(node["data"]?["a"] == "10")
            #expect(node["metadata"]?["labels"]?["x/y"] == "z")
        }
    }

    @Test("server-side apply: a conflicting field fails without force, names the field, and force takes it over")
    func serverSideApply() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            _ = try await client.create(ConfigMapView.self, .configMaps, namespace: "default", object: configMapNode("gen", data: ["prometheus.yml": "old"]), fieldManager: "someone-else")
            let desired = configMapNode("gen", data: ["prometheus.yml": "new"])
            let conflict = try await #require(throws: APIError.self) {
                _ = try await client.apply(ConfigMapView.self, .configMaps, namespace: "default", name: "gen", object: desired, fieldManager: "netwatch", force: false)
            }
            #expect(conflict.isConflict)
            #expect(conflict.status.details?.causes?.first?.field == ".data.prometheus.yml")
            #expect(conflict.description.contains("someone-else"))
            #expect(conflict.description.contains("apply with force"))

            let forced = try await client.apply(ConfigMapView.self, .configMaps, namespace: "default", name: "gen", object: desired, fieldManager: "netwatch", force: true)
            #expect(forced.data == ["prometheus.yml": "new"])
            // Applying the same thing again changes nothing: same resourceVersion.
            let again = try await client.apply(ConfigMapView.self, .configMaps, namespace: "default", name: "gen", object: desired, fieldManager: "netwatch", force: true)
            #expect(again.metadata.resourceVersion == forced.metadata.resourceVersion)
            // Dropping a key from the applied config removes the field this manager owned.
            let fewer = configMapNode("gen2", data: ["a": "1", "b": "2"])
            _ = try await client.apply(ConfigMapView.self, .configMaps, namespace: "default", name: "gen2", object: fewer, fieldManager: "netwatch", force: true)
            let pruned = try await client.apply(ConfigMapView.self, .configMaps, namespace: "default", name: "gen2", object: configMapNode("gen2", data: ["a": "1"]), fieldManager: "netwatch", force: true)
            #expect(pruned.data == ["a": "1"])
            let raw = try await client.get(Node.self, .configMaps, namespace: "default", name: "gen2")
            #expect(raw["metadata"]?["managedFields"]?.sequence?.first?["manager"] == "netwatch")
        }
    }

    @Test("status subresource: the main resource ignores status, /status changes only status")
    func statusSubresource() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let crd = try #require(NetWatchTestCRD.monitoringStackCRD)
            _ = try await client.create(Node.self, .customResourceDefinitions, object: crd)
            let stacks = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "monitoringstacks", kind: "MonitoringStack", namespaced: true)
            let stack: Node = ["apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack", "metadata": ["name": "main", "namespace": "default"], "spec": ["prometheus": ["scrapeInterval": "15s"]], "status": ["configHash": "ignored"]]
            let created = try await client.create(Node.self, stacks, namespace: "default", object: stack)
            #expect(created["status"] == nil)
            #expect(created["metadata"]?["generation"] == 1)

            let status: Node = ["apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack", "metadata": ["name": "main", "namespace": "default"], "status": ["configHash": "abc", "observedGeneration": 1]]
            let applied = try await client.apply(Node.self, stacks, namespace: "default", name: "main", object: status, fieldManager: "netwatch", force: true, subresource: "status")
            #expect(applied["status"]?["configHash"] == "abc")
            #expect(applied["spec"]?["prometheus"]?["scrapeInterval"] == "15s")
            #expect(applied["metadata"]?["generation"] == 1, "a status write does not bump generation")

            let spec = try await client.patch(Node.self, stacks, namespace: "default", name: "main", patch: .merge(["spec": ["prometheus": ["scrapeInterval": "30s"]], "status": ["configHash": "nope"]]))
            #expect(spec["status"]?["configHash"] == "abc")
            #expect(spec["metadata"]?["generation"] == 2)
        }
    }

    @Test("delete with preconditions and propagation; finalizers hold the object until removed")
    func deleteSemantics() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let created = try await client.create(ConfigMapView.self, .configMaps, namespace: "default", object: configMapNode("victim", data: [:]))
            let wrongUID = try await #require(throws: APIError.self) {
                try await client.delete(.configMaps, namespace: "default", name: "victim", preconditions: DeletePreconditions(uid: "not-it"))
            }
            #expect(wrongUID.isConflict)
            try await client.delete(.configMaps, namespace: "default", name: "victim", preconditions: DeletePreconditions(uid: created.metadata.uid), propagation: .background)
            let gone = try await #require(throws: APIError.self) { _ = try await client.get(ConfigMapView.self, .configMaps, namespace: "default", name: "victim") }
            #expect(gone.isNotFound)

            var held = configMapNode("held", data: [:])
            held = setting(["netwatch.dev/cleanup"], at: ["metadata", "finalizers"], in: held)
            _ = try await client.create(Node.self, .configMaps, namespace: "default", object: held)
            try await client.delete(.configMaps, namespace: "default", name: "held")
            let terminating = try await client.get(Node.self, .configMaps, namespace: "default", name: "held")
            #expect(terminating["metadata"]?["deletionTimestamp"] != nil)
            _ = try await client.patch(Node.self, .configMaps, namespace: "default", name: "held", patch: .json([["op": "remove", "path": "/metadata/finalizers"]]))
            let removed = try await #require(throws: APIError.self) { _ = try await client.get(Node.self, .configMaps, namespace: "default", name: "held") }
            #expect(removed.isNotFound)
        }
    }

    @Test("oversized bodies fail fast: 413 above 3 MiB, 422 for ConfigMap data above 1 MiB, not retried")
    func sizeLimits() async throws {
        try await withCluster { cluster in
            let client = cluster.client
            let huge = configMapNode("huge", data: ["blob": String(repeating: "a", count: 3 * 1024 * 1024 + 10)])
            let tooLarge = try await #require(throws: APIError.self) { _ = try await client.create(Node.self, .configMaps, namespace: "default", object: huge) }
            #expect(tooLarge.code == 413)
            #expect(tooLarge.description.contains("split the object"))

            let big = configMapNode("big", data: ["blob": String(repeating: "a", count: 1024 * 1024 + 10)])
            let invalid = try await #require(throws: APIError.self) { _ = try await client.create(Node.self, .configMaps, namespace: "default", object: big) }
            #expect(invalid.code == 422)
            #expect(invalid.description.contains("1048576"))
            #expect(cluster.server.state.recordedRequests.filter { $0.method == "POST" }.count == 2)
        }
    }

    @Test("an object in a missing namespace is a 404 naming the namespace")
    func missingNamespace() async throws {
        try await withCluster { cluster in
            let error = try await #require(throws: APIError.self) {
                _ = try await cluster.client.create(Node.self, .configMaps, namespace: "nowhere", object: configMapNode("x", namespace: "nowhere", data: [:]))
            }
            #expect(error.isNotFound)
            #expect(error.description.contains("namespaces \"nowhere\" not found"))
        }
    }
}

func setting(_ value: Node, at path: [String], in node: Node) -> Node {
    guard let key = path.first, case .mapping(var map) = node else { return value }
    map[key] = path.count == 1 ? value : setting(value, at: Array(path.dropFirst()), in: map[key] ?? .mapping(Mapping()))
    return .mapping(map)
}
