@testable import ConfigGen
import Flows
import KubeModel
import NetWatchAPI
@testable import Operator
import Prometheus
import Testing

/// The flow-edge series: which edges get one, the bound per FlowPolicy with the rest summed,
/// names of ends that are not workloads, the would-deny marker, and counter resets.
@Suite("Flow edge metrics")
struct FlowEdgeMetricTests {
    static func workload(_ name: String, _ namespace: String = "shop") -> Peer { .workload(WorkloadReference(namespace: namespace, kind: "Deployment", name: name)) }

    static func plan(_ namespace: String, _ workloads: [String], denied: [ResolvedEdge] = []) -> FlowPolicyPlan {
        FlowPolicyPlan(namespace: namespace, name: "learned", mode: .audit, phase: .stable,
                       workloads: workloads.map { .init(workload: WorkloadReference(namespace: namespace, kind: "Deployment", name: $0), phase: .stable, policyName: $0, edges: 0) },
                       policies: [], defaultDeny: nil, deniedWouldBe: denied, learningWindow: (0, 0))
    }

    @Test("top edges per FlowPolicy by flows, the rest summed into _other; ends outside named without addresses; edges of no FlowPolicy left out")
    func bounded() {
        let edges = (1...5).map { ResolvedEdge(client: Self.workload("c\($0)"), server: Self.workload("api"), port: .int(8080), transport: .tcp, flows: $0 * 10) }
            + [ResolvedEdge(client: Self.workload("api"), server: .external(IPAddress("203.0.113.9")!), port: .int(443), transport: .tcp, flows: 100),
               ResolvedEdge(client: Self.workload("x", "other"), server: Self.workload("y", "other"), port: .int(80), transport: .tcp, flows: 1000)]
        let series = FlowEdgeMetric.series(edges, plans: [Self.plan("shop", ["api"])], limit: 3)
        let names = series.keys.sorted().map { "\($0.sourceWorkload)->\($0.destinationNamespace)/\($0.destinationWorkload):\($0.port)" }
        #expect(names == ["_other->_other/_other:_other", "api->/world:443", "c4->shop/api:8080", "c5->shop/api:8080"])
        #expect(series.values.map(\.flows).reduce(0, +) == 100 + 150, "every edge of the FlowPolicy is counted once; the other namespace's is not")
        #expect(series[FlowEdgeMetric.Key(sourceNamespace: "shop", sourceWorkload: "_other", destinationNamespace: "_other", destinationWorkload: "_other",
                                          port: "_other", transport: "_other")]?.flows == 10 + 20 + 30)
    }

    @Test("registry series follow updates: counters grow by the difference, reset when counted from fewer, markers come and go, gone edges are removed")
    func registry() {
        let registry = PrometheusCollectorRegistry()
        let metric = FlowEdgeMetric(registry: registry, perFlowPolicy: 10)
        let web = ResolvedEdge(client: Self.workload("web"), server: Self.workload("db"), port: .int(5432), transport: .tcp, flows: 3)
        let late = ResolvedEdge(client: Self.workload("web"), server: Self.workload("cart"), port: .string("http"), transport: .tcp, flows: 1)
        func text() -> String { String(decoding: registry.emitToBuffer(), as: UTF8.self) }
        let webSeries = #"netwatch_flow_edge_connections_total{src_namespace="shop",src_workload="web",dst_namespace="shop",dst_workload="db",port="5432",protocol="TCP"}"#
        let lateLabels = #"{src_namespace="shop",src_workload="web",dst_namespace="shop",dst_workload="cart",port="http",protocol="TCP"}"#
        metric.update([web, late], plans: [Self.plan("shop", ["web"], denied: [late])])
        #expect(text().contains(webSeries + " 3\n"))
        #expect(text().contains("netwatch_flow_edge_would_deny" + lateLabels + " 1.0\n"))
        var grown = web
        grown.flows = 7
        metric.update([grown, late], plans: [Self.plan("shop", ["web"])])
        #expect(text().contains(webSeries + " 7\n"))
        #expect(!text().contains("netwatch_flow_edge_would_deny"), "the marker goes when the edge is no longer denied")
        var restarted = web
        restarted.flows = 2
        metric.update([restarted], plans: [Self.plan("shop", ["web"])])
        #expect(text().contains(webSeries + " 2\n"), "counted again from fewer: the counter restarts")
        #expect(!text().contains(lateLabels), "an edge gone is removed")
        metric.update([], plans: [])
        #expect(!text().contains("netwatch_flow_edge_connections_total{"))
    }
}
