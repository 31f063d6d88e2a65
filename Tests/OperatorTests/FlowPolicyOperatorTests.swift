import DataTree
import Flows
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Operator
import Testing
import YAML

/// A FlowPolicy in enforce mode against the test API server, fed by a Hubble exporter file:
/// Learning → Stable, the learned policies applied and the default-deny after them; a
/// connection first seen afterwards is reported (status, Event, metric) and never widens the
/// applied policy; switching to observe removes what was applied.
@Suite("Operator learns and enforces FlowPolicies", .serialized)
struct FlowPolicyOperatorTests {
    static let flowPolicies = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "flowpolicies", kind: "FlowPolicy", namespaced: true)
    static let networkPolicies = APIResource(group: "networking.k8s.io", version: "v1", resource: "networkpolicies", kind: "NetworkPolicy", namespaced: true)
    static let events = APIResource(group: "", version: "v1", resource: "events", kind: "Event", namespaced: true)

    static func hubble(_ client: (String, String, String), _ server: (String, String, String), port: Int) -> String {
        func endpoint(_ end: (String, String, String)) -> String {
            #"{"namespace":"shop","labels":["k8s:app=\#(end.1)"],"workloads":[{"name":"\#(end.1)","kind":"\#(end.2)"}]}"#
        }
        let time = Timestamp.format(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        return #"{"flow":{"time":"\#(time)","verdict":"FORWARDED","IP":{"source":"\#(client.0)","destination":"\#(server.0)"},"l4":{"TCP":{"source_port":40000,"destination_port":\#(port),"flags":{"SYN":true}}},"source":\#(endpoint(client)),"destination":\#(endpoint(server)),"Type":"L3_L4","is_reply":false}}"# + "\n"
    }

    static func objects(hubblePath: String) throws -> [Node] {
        try YAMLParser().parse(Array("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web}]}}}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: cart, namespace: shop}
            spec: {selector: {matchLabels: {app: cart}}, template: {metadata: {labels: {app: cart}}, spec: {containers: [{name: cart, image: cart}]}}}
            ---
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: db, namespace: shop}
            spec: {selector: {matchLabels: {app: db}}, serviceName: db, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: db}]}}}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: FlowPolicy
            metadata: {name: learned, namespace: shop}
            spec:
              sources: [{hubble: {path: "\(hubblePath)"}}]
              learning: {window: 1s, stabilization: 1s}
              mode: enforce
              defaultDeny: {ingress: true}
            """.utf8), file: "objects.yaml").map(\.node)
    }

    @Test("enforce: applied when Stable, default-deny last, a late connection reported and not allowed, removed when no longer enforced")
    func enforce() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-flowpolicy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let hubblePath = work + "/hubble.json"
        try Self.hubble(("10.42.0.5", "web", "Deployment"), ("10.42.0.6", "db", "StatefulSet"), port: 5432).write(toFile: hubblePath, atomically: true, encoding: .utf8)
        let harness = try await OperatorHarness.start(objects: try Self.objects(hubblePath: hubblePath), outputDirectory: work + "/out", flowInterval: .milliseconds(200))
        let client = harness.client

        var policies: [Node] = []
        let applied = try await eventually(timeout: .seconds(20)) {
            policies = (try? await client.list(Node.self, Self.networkPolicies, namespace: "shop").items) ?? []
            return policies.count == 4
        }
        #expect(applied, "\(policies.compactMap { $0["metadata"]?["name"]?.string })")
        let names = policies.compactMap { $0["metadata"]?["name"]?.string }.sorted()
        #expect(names == ["cart-deployment-flows", "db-statefulset-flows", "learned-default-deny", "web-deployment-flows"])
        func version(_ name: String) -> Int { Int(policies.first { $0["metadata"]?["name"]?.string == name }?["metadata"]?["resourceVersion"]?.string ?? "") ?? 0 }
        #expect(["cart-deployment-flows", "db-statefulset-flows", "web-deployment-flows"].allSatisfy { version($0) < version("learned-default-deny") },
                "the default-deny is applied after every allow policy")
        let web = try #require(policies.first { $0["metadata"]?["name"]?.string == "web-deployment-flows" })
        #expect(web["metadata"]?["ownerReferences"]?.sequence?.first?["kind"] == "FlowPolicy")
        #expect(web["metadata"]?["labels"]?["netwatch.dev/flow-policy"] == "learned")
        let evaluator = PolicyEvaluator(policies: policies)
        func endpoint(_ app: String) -> PolicyEvaluator.Endpoint { .init(namespace: "shop", labels: ["app": app], address: IPAddress("10.42.0.9")!) }
        #expect(evaluator.allows(from: endpoint("web"), to: endpoint("db"), port: 5432, transport: .tcp))
        #expect(!evaluator.allows(from: endpoint("web"), to: endpoint("cart"), port: 8080, transport: .tcp))

        var status: Node?
        _ = try await eventually { status = try? await client.get(Node.self, Self.flowPolicies, namespace: "shop", name: "learned")["status"]; return status?["phase"] == "Stable" }
        #expect(status?["phase"] == "Stable" && status?["workloads"]?.sequence?.count == 3, "\(String(describing: status))")

        // A connection first seen after the policies froze: reported, not allowed.
        let handle = try #require(FileHandle(forWritingAtPath: hubblePath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(Self.hubble(("10.42.0.5", "web", "Deployment"), ("10.42.0.7", "cart", "Deployment"), port: 8080).utf8))
        try handle.close()
        let reported = try await eventually(timeout: .seconds(10)) {
            status = try? await client.get(Node.self, Self.flowPolicies, namespace: "shop", name: "learned")["status"]
            return status?["deniedWouldBeCount"] == .int(1)
        }
        #expect(reported, "\(String(describing: status))")
        #expect(status?["deniedWouldBe"]?.sequence?.first?["connection"] == "Deployment shop/web → Deployment shop/cart on 8080/TCP")
        let recorded = try await eventually {
            let events = (try? await client.list(Node.self, Self.events, namespace: "shop").items) ?? []
            return events.contains { $0["reason"] == "ConnectionWouldBeDenied" && $0["message"]?.string?.contains("shop/cart on 8080/TCP") == true }
        }
        #expect(recorded)
        #expect(harness.counter(#"netwatch_flowpolicy_would_deny_connections{namespace="shop",flowpolicy="learned"}"#) == 1)
        // The live graph: one series per edge, the late one marked would-deny.
        let edge = #"{src_namespace="shop",src_workload="web",dst_namespace="shop",dst_workload="db",port="5432",protocol="TCP"}"#
        let late = #"{src_namespace="shop",src_workload="web",dst_namespace="shop",dst_workload="cart",port="8080",protocol="TCP"}"#
        // Set after the statuses, Events and applies of the same reconcile: waited for.
        #expect(try await eventually { harness.counter("netwatch_flow_edge_would_deny" + late) == 1 })
        #expect(harness.counter("netwatch_flow_edge_connections_total" + edge) == 1)
        #expect(harness.counter("netwatch_flow_edge_connections_total" + late) == 1)
        #expect(!harness.netwatch.metrics.exposition.contains("netwatch_flow_edge_would_deny" + edge), "allowed edges carry no marker")
        let still = try await client.get(Node.self, Self.networkPolicies, namespace: "shop", name: "web-deployment-flows")
        #expect(!PolicyEvaluator(policies: [still]).allows(from: endpoint("web"), to: endpoint("cart"), port: 8080, transport: .tcp), "never silently widened")

        // Back to observe: what enforce applied is removed.
        let observe: Node = ["apiVersion": "netwatch.dev/v1alpha1", "kind": "FlowPolicy", "metadata": ["name": "learned", "namespace": "shop"], "spec": ["mode": "observe"]]
        let _: Node = try await client.apply(Node.self, Self.flowPolicies, namespace: "shop", name: "learned", object: observe, fieldManager: "test", force: true)
        let removed = try await eventually { try await client.list(Node.self, Self.networkPolicies, namespace: "shop").items.isEmpty }
        #expect(removed)
        await harness.stop()
    }
}
