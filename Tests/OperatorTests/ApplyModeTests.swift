import ConfigGen
import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Logging
import Operator
import RenderIO
import Testing
import YAML

@Suite("Operator applying to the cluster")
struct ApplyModeTests {
    @Test("applies the rendered ConfigMaps and Secrets with server-side apply, owned by their stack; unchanged output is not re-sent; removed output is deleted")
    func appliesRenderedObjects() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let (snapshot, _) = Snapshot.decode(loaded.objects)
        let rendered = render(snapshot).artifacts.filter { $0.role == .kubernetesManifest }
        #expect(!rendered.isEmpty)

        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document), outputDirectory: nil)
        let client = harness.client, server = harness.server

        // Every rendered object appears with the rendered data, owned by its stack, managed by netwatch.
        for artifact in rendered {
            let expected = try #require(try YAMLParser().parse(artifact.bytes, file: artifact.path).first?.node)
            let kind = expected["kind"]?.string == "Secret" ? APIResource.secrets : .configMaps
            let name = try #require(expected["metadata"]?["name"]?.string)
            let namespace = expected["metadata"]?["namespace"]?.string
            var live: Node?
            // The content is applied first, then the owner reference (by its own field manager).
            _ = try await eventually {
                live = try? await client.get(Node.self, kind, namespace: namespace, name: name)
                return live?["metadata"]?["ownerReferences"] != nil
            }
            let object = try #require(live, "\(artifact.path) was not applied")
            #expect(object["data"] == expected["data"], "\(artifact.path)")
            #expect(object["metadata"]?["ownerReferences"]?.sequence?.first?["kind"] == "MonitoringStack", "\(artifact.path)")
            let managers = object["metadata"]?["managedFields"]?.sequence ?? []
            #expect(managers.contains { $0["manager"] == "netwatch" && $0["operation"] == "Apply" })
            #expect(managers.contains { $0["manager"] == "netwatch-owner" && $0["operation"] == "Apply" })
            // The rendered manifest itself is the apply body (YAML), not a re-encoding of it.
            #expect(server.state.recordedRequests.contains {
                $0.method == "PATCH" && $0.path.hasSuffix("/\(name)") && $0.query["fieldManager"] == "netwatch" && $0.contentType == "application/apply-patch+yaml"
            }, "\(artifact.path)")
        }
        let stacks = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "monitoringstacks", kind: "MonitoringStack", namespaced: true)
        var main: Node?
        _ = try await eventually { main = try? await client.get(Node.self, stacks, namespace: "monitoring", name: "main"); return main?["status"]?["configHash"] != nil }
        #expect(main?["status"]?["observedGeneration"] == 1)
        #expect(main?["status"]?["conditions"]?.sequence?.first { $0["type"] == "ConfigValid" }?["status"] == "True")
        #expect(main?["status"]?["configHash"]?.string?.count == 16)
        // NetworkProbes from the samples: Accepted, with the number of targets they probe.
        let probes = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkprobes", kind: "NetworkProbe", namespaced: true)
        var probe: Node?
        _ = try await eventually { probe = try? await client.get(Node.self, probes, namespace: "shop", name: "web-http"); return probe?["status"]?["targets"] != nil }
        #expect(probe?["status"]?["targets"] == 1, "the web Service's http port")
        #expect(probe?["status"]?["conditions"]?.sequence?.first { $0["type"] == "Accepted" }?["status"] == "True")
        // Status writes follow the applies; under a loaded parallel run they may trail the stack's.
        let statusObjects = loaded.objects.filter { ["MonitoringStack", "NetworkMonitor", "NetworkAlerts", "NetworkDashboard", "NetworkProbe"].contains($0.type.kind) }.count
        _ = try await eventually { server.state.recordedRequests.filter { $0.method == "PATCH" && $0.path.hasSuffix("/status") }.count >= statusObjects }
        _ = try await eventually { await harness.netwatch.isSettled() }
        let patchesAfterSync = server.state.recordedRequests.filter { $0.method == "PATCH" }.count
        let statusWrites = server.state.recordedRequests.filter { $0.method == "PATCH" && $0.path.hasSuffix("/status") }.count
        let ownerWrites = server.state.recordedRequests.filter { $0.method == "PATCH" && $0.query["fieldManager"] == "netwatch-owner" }.count
        #expect(patchesAfterSync - statusWrites - ownerWrites == rendered.count, "one apply per rendered object")
        #expect(ownerWrites == rendered.count, "one owner reference per rendered object")
        #expect(statusWrites == statusObjects, "one status write per stack, monitor, alerts, dashboard and probe object")

        // A change that does not alter the output (a label on an unrelated namespace) sends nothing.
        let touched = try await client.patch(Node.self, .namespaces, name: "default", patch: .merge(["metadata": ["labels": ["touched": "yes"]]]))
        try await harness.settled(after: touched, .namespaces)
        #expect(server.state.recordedRequests.filter { $0.method == "PATCH" }.count == patchesAfterSync + 1, "only the test's own namespace patch")

        // A new pod of the static stack's job reaches its file_sd ConfigMap through the
        // incremental path: that ConfigMap is the only object patched (status follows later).
        let pod: Node = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "ledger-9", "namespace": "payments", "labels": ["app.kubernetes.io/name": "ledger"]],
            "spec": ["containers": [["name": "ledger", "ports": [["name": "metrics", "containerPort": 9187]]]]],
            "status": ["phase": "Running", "podIP": "127.0.0.77"],
        ]
        let patchesBeforePod = server.state.recordedRequests.filter { $0.method == "PATCH" }.count
        _ = try await client.create(Node.self, .pods, namespace: "payments", object: pod)
        let reached = try await eventually {
            let maps = try await client.list(Node.self, .configMaps, namespace: "monitoring")
            return maps.items.contains { ($0["metadata"]?["name"]?.string ?? "").contains("file-sd") && "\($0["data"] ?? [:])".contains("127.0.0.77:9187") }
        }
        #expect(reached)
        let podPatches = server.state.recordedRequests.filter { $0.method == "PATCH" }.dropFirst(patchesBeforePod)
        #expect(podPatches.count == 1 && podPatches.allSatisfy { $0.path.contains("/configmaps/") && $0.path.contains("file-sd") }, "\(podPatches.map(\.path))")
        #expect(harness.counter("netwatch_renders_total{mode=\"incremental\"}") >= 1)
        // The pod change's own time is measured, to the changed ConfigMap applied.
        #expect(harness.counter("netwatch_pod_change_duration_seconds_count{stage=\"rendered\"}") >= 1)
        #expect(harness.counter("netwatch_pod_change_duration_seconds_count{stage=\"written\"}") >= 1)

        // Deleting the static stack removes its Secret and file_sd ConfigMaps.
        try await client.delete(stacks, namespace: "monitoring", name: "edge")
        let cleaned = try await eventually {
            let secrets = try await client.list(Node.self, .secrets, namespace: "monitoring")
            return secrets.items.isEmpty
        }
        #expect(cleaned)

        await harness.stop()
    }
}
