import ConfigGen
import DataTree
import Flows
import Foundation
import KubeModel
import NetWatchAPI
import RenderIO
import Testing

/// FlowPolicy plans over manifests/examples/flowpolicy: three hours of flows in which web
/// started calling the database directly two hours in, after every workload was Stable.
@Suite("FlowPolicy plans")
struct FlowPolicyTests {
    static func snapshot() -> Snapshot {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/examples/flowpolicy").path])
        return loaded.snapshot().0
    }

    static func plan(_ change: (inout Snapshot) -> Void = { _ in }, now: Int64? = nil) throws -> FlowPolicyPlan {
        var snapshot = snapshot()
        change(&snapshot)
        let (plans, diagnostics) = FlowPolicyPlanner(snapshot: snapshot, now: now).plans()
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        return try #require(plans.first)
    }

    static func t(_ text: String) -> Int64 { Timestamp.parse(text)! }
    static let web = WorkloadReference(namespace: "shop", kind: "Deployment", name: "web")
    static let db = WorkloadReference(namespace: "shop", kind: "StatefulSet", name: "db")

    /// The example's pods and the outside world as policy endpoints.
    static func endpoint(_ app: String?, namespace: String? = "shop", address: String = "10.42.9.9", labels: [String: String]? = nil) -> PolicyEvaluator.Endpoint {
        let ports: [String: [String: Int]] = ["web": ["http": 8080], "cart": ["http": 8081, "metrics": 9090], "db": ["postgres": 5432], "worker": [:]]
        var named = app.flatMap { ports[$0] } ?? [:]
        named["nw-exporter"] = 9532  // every shop pod is injected
        return .init(namespace: namespace, labels: labels ?? app.map { ["app": $0] } ?? [:], address: IPAddress(address)!, namedPorts: namespace == "shop" ? named : [:])
    }

    @Test("audit: every workload Stable, policies frozen when they became Stable, the late connection reported; default-deny once all are Stable")
    func audit() throws {
        let plan = try Self.plan()
        #expect(plan.phase == .stable && plan.workloads.allSatisfy { $0.phase == .stable })
        #expect(Set(plan.workloads.map(\.workload.name)) == ["web", "worker", "cart", "db"])
        #expect(plan.deniedWouldBe.map { $0.summary } == ["Deployment shop/web → StatefulSet shop/db on 5432/TCP"])
        #expect(plan.defaultDeny?["spec"]?["policyTypes"] == ["Ingress"])
        #expect(plan.learningWindow.start == Self.t("2026-11-22T08:00:00Z") && plan.learningWindow.end == Self.t("2026-11-22T09:00:00Z"))
    }

    @Test("semantics: what was observed before the freeze, Prometheus's scrapes and DNS are allowed; the rest is denied")
    func semantics() throws {
        let plan = try Self.plan()
        let evaluator = PolicyEvaluator(policies: plan.policies + [plan.defaultDeny].compactMap { $0 })
        func allowed(_ client: PolicyEvaluator.Endpoint, _ server: PolicyEvaluator.Endpoint, _ port: Int, _ transport: ObservedConnection.Transport = .tcp) -> Bool {
            evaluator.allows(from: client, to: server, port: port, transport: transport)
        }
        let prometheus = Self.endpoint(nil, namespace: "monitoring", labels: ["app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "main"])
        let dns = Self.endpoint(nil, namespace: "kube-system", labels: ["k8s-app": "kube-dns"])
        #expect(allowed(Self.endpoint("web"), Self.endpoint("cart"), 8081), "web → cart through the Service, on the pod's port")
        #expect(allowed(Self.endpoint("cart"), Self.endpoint("db"), 5432))
        #expect(allowed(Self.endpoint("cart"), Self.endpoint(nil, namespace: nil, address: "198.51.100.7"), 443))
        #expect(allowed(prometheus, Self.endpoint("cart"), 9090), "the stack scrapes cart's metrics port")
        #expect(allowed(prometheus, Self.endpoint("worker"), 9532), "and every injected exporter")
        for app in ["web", "cart", "db", "worker"] {
            #expect(allowed(Self.endpoint(app), dns, 53, .udp) && allowed(Self.endpoint(app), dns, 53, .tcp), "DNS from \(app)")
            #expect(allowed(Self.endpoint(app), Self.endpoint(nil, namespace: nil, address: "169.254.20.10"), 53, .udp), "NodeLocal DNS from \(app)")
        }
        // Never observed (or observed only after the freeze):
        #expect(!allowed(Self.endpoint("web"), Self.endpoint("db"), 5432), "the late connection")
        #expect(!allowed(Self.endpoint("worker"), Self.endpoint("cart"), 8081))
        #expect(!allowed(Self.endpoint(nil, namespace: nil, address: "203.0.113.5"), Self.endpoint("web"), 8080))
        #expect(!allowed(prometheus, Self.endpoint("web"), 8080), "Prometheus may scrape, not browse")
        #expect(!allowed(Self.endpoint("cart"), Self.endpoint(nil, namespace: nil, address: "198.51.100.8"), 443))
        #expect(!allowed(Self.endpoint(nil, namespace: "other", labels: ["app": "cart"]), Self.endpoint("db"), 5432), "a cart in another namespace")
        #expect(!allowed(Self.endpoint("web"), dns, 80))
    }

    @Test("observe mode and widening follow the traffic: the late connection is allowed and nothing is reported")
    func observeAndWiden() throws {
        for change: (inout Snapshot) -> Void in [{ $0.flowPolicies[0].spec.mode = .observe }, { $0.flowPolicies[0].spec.widenOnNewConnections = true }] {
            let plan = try Self.plan(change)
            #expect(plan.deniedWouldBe.isEmpty)
            let evaluator = PolicyEvaluator(policies: plan.policies + [plan.defaultDeny].compactMap { $0 })
            #expect(evaluator.allows(from: Self.endpoint("web"), to: Self.endpoint("db"), port: 5432, transport: .tcp))
            #expect(plan.workloads.allSatisfy { $0.phase == .stable }, "the last change (10:00) is an hour before the end of the observation")
        }
    }

    @Test("Learning before the window has passed, Stabilizing while changes are recent; no default-deny until all are Stable")
    func lifecycle() throws {
        let learning = try Self.plan(now: Self.t("2026-11-22T08:40:00Z"))
        #expect(learning.phase == .learning && learning.defaultDeny == nil && learning.deniedWouldBe.isEmpty)
        // In observe mode the late connection at 10:00 puts web and db back to Stabilizing until 10:10.
        let stabilizing = try Self.plan({ $0.flowPolicies[0].spec.mode = .observe }, now: Self.t("2026-11-22T10:05:00Z"))
        let phases = Dictionary(uniqueKeysWithValues: stabilizing.workloads.map { ($0.workload.name, $0.phase) })
        #expect(phases == ["web": .stabilizing, "db": .stabilizing, "cart": .stable, "worker": .stable])
        #expect(stabilizing.phase == .stabilizing && stabilizing.defaultDeny == nil)
        #expect(stabilizing.stablePolicies.count == 2)
    }

    @Test("a FlowPolicy in kube-system is refused; a workload two FlowPolicies select belongs to the first")
    func conflicts() throws {
        var snapshot = Self.snapshot()
        var second = snapshot.flowPolicies[0]
        second.metadata.name = "zz-second"
        var system = snapshot.flowPolicies[0]
        system.metadata.namespace = "kube-system"
        snapshot.flowPolicies += [second, system]
        let (plans, diagnostics) = FlowPolicyPlanner(snapshot: snapshot).plans()
        #expect(plans.map(\.name) == ["learned", "zz-second"])
        #expect(plans[1].workloads.isEmpty)
        #expect(diagnostics.contains { $0.message.contains("kube-system is never given learned policies") })
        #expect(diagnostics.filter { $0.message.contains("comes first by name") }.count == 4)
    }
}
