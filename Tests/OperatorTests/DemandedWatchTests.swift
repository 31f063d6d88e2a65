import ConfigGen
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Operator
import Testing

/// Kinds the operator watches only while a cached object asks for them: Ingresses, for probes of
/// Ingress hosts. Without such a probe the operator never lists or watches Ingresses (no
/// traffic, no memory for a kind most clusters' probes ignore).
@Suite("Watches started on demand")
struct DemandedWatchTests {
    static let stack: Node = [
        "apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack",
        "metadata": ["name": "edge-probes", "namespace": "monitoring"],
        "spec": ["prometheus": ["discovery": "static"], "probeSelector": [:], "monitorNamespaceSelector": ["any": true]],
    ]

    static func ingress(_ host: String) -> Node {
        [
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": ["name": "storefront", "namespace": "shop", "labels": ["probe": "true"]],
            "spec": ["rules": [["host": .string(host)]]],
        ]
    }

    static let networkProbes = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkprobes", kind: "NetworkProbe", namespaced: true)

    static let probe: Node = [
        "apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkProbe",
        "metadata": ["name": "storefront", "namespace": "shop"],
        "spec": ["prober": ["url": "127.0.0.1:9115"], "module": ["tcp": [:]], "targets": ["ingresses": ["selector": ["matchLabels": ["probe": "true"]]]]],
    ]

    @Test("Ingresses are watched only while a probe asks for Ingress targets; their hosts then follow without a restart")
    func ingressesOnDemand() async throws {
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-demand-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: live) }
        let namespaces: [Node] = ["shop", "monitoring"].map { ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string($0)]] }
        let harness = try await OperatorHarness.start(objects: namespaces + [Self.stack, Self.ingress("shop.example.com")], outputDirectory: live)
        let config = live + "/monitoring/edge-probes/prometheus/prometheus.yml"
        let started = try await eventually {
            guard FileManager.default.fileExists(atPath: config) else { return false }
            return await harness.netwatch.isSettled()
        }
        #expect(started)
        func ingressRequests() -> [RecordedRequest] { harness.server.state.recordedRequests.filter { $0.path.hasSuffix("/ingresses") } }
        #expect(ingressRequests().isEmpty, "no probe asks for Ingresses: never listed or watched")

        _ = try await harness.client.create(Node.self, Self.networkProbes, namespace: "shop", object: Self.probe)
        let file = live + "/monitoring/edge-probes/prometheus/file_sd/probe_shop_storefront_ingresses.json"
        func targets() -> String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
        #expect(try await eventually { targets().contains(#""targets":["shop.example.com"]"#) }, "\(targets())")
        #expect(!ingressRequests().isEmpty)

        // A changed Ingress reaches the file through the watch.
        _ = try await harness.client.apply(Node.self, .ingresses, namespace: "shop", name: "storefront", object: Self.ingress("www.example.com"), fieldManager: "test", force: true)
        #expect(try await eventually { targets().contains(#""targets":["www.example.com"]"#) }, "\(targets())")

        // Without the probe nobody asks: the watch stops (no new Ingress requests once settled).
        try await harness.client.delete(Self.networkProbes, namespace: "shop", name: "storefront")
        let removed = try await eventually {
            guard !FileManager.default.fileExists(atPath: file) else { return false }
            return await harness.netwatch.isSettled()
        }
        #expect(removed, "the probe's jobs go with it")
        let seen = ingressRequests().count
        // Every open watch is cut: the kinds still watched watch again, Ingresses must not.
        harness.server.state.closeAllWatches()
        _ = try await harness.client.apply(Node.self, .ingresses, namespace: "shop", name: "storefront", object: Self.ingress("late.example.com"), fieldManager: "test", force: true)
        let namespace: Node = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "late"]]
        try await harness.settled(after: try await harness.client.create(Node.self, .namespaces, namespace: nil, object: namespace), .namespaces)
        #expect(ingressRequests().count == seen, "no Ingress request after the last asking probe went")
        await harness.stop()
    }

    static func node(_ name: String, _ address: String) -> Node {
        [
            "apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)],
            "status": ["addresses": [["type": "InternalIP", "address": .string(address)]], "daemonEndpoints": ["kubeletEndpoint": ["Port": 10250]]],
        ]
    }

    @Test("Nodes are watched only while a stack under static discovery scrapes the kubelet; a new Node becomes a target without a restart")
    func nodesOnDemand() async throws {
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-nodes-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: live) }
        let monitoring: Node = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "monitoring"]]
        func stack(discovery: String) -> Node {
            [
                "apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack", "metadata": ["name": "nodes", "namespace": "monitoring"],
                "spec": ["prometheus": ["discovery": .string(discovery)], "clusterTargets": ["kubelet": true]],
            ]
        }
        let harness = try await OperatorHarness.start(objects: [monitoring, stack(discovery: "kubernetes"), Self.node("node-a", "10.0.0.1")], outputDirectory: live)
        let config = live + "/monitoring/nodes/prometheus/prometheus.yml"
        let started = try await eventually {
            guard FileManager.default.fileExists(atPath: config) else { return false }
            return await harness.netwatch.isSettled()
        }
        #expect(started)
        func nodeRequests() -> [RecordedRequest] { harness.server.state.recordedRequests.filter { $0.path == "/api/v1/nodes" } }
        #expect(nodeRequests().isEmpty, "Kubernetes discovery: Prometheus reads the Nodes itself")

        let stacks = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "monitoringstacks", kind: "MonitoringStack", namespaced: true)
        _ = try await harness.client.apply(Node.self, stacks, namespace: "monitoring", name: "nodes", object: stack(discovery: "static"), fieldManager: "test", force: true)
        let file = live + "/monitoring/nodes/prometheus/file_sd/cluster_kubelet.json"
        func targets() -> String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
        #expect(try await eventually { targets().contains(#""targets":["10.0.0.1:10250"]"#) }, "\(targets())")
        _ = try await harness.client.create(Node.self, .nodes, object: Self.node("node-b", "10.0.0.2"))
        #expect(try await eventually { targets().contains(#""targets":["10.0.0.2:10250"]"#) }, "\(targets())")
        #expect(!nodeRequests().isEmpty)
        await harness.stop()
    }
}
