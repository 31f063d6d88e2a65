public import ConfigGen
public import Flows
import KubeModel
public import Prometheus
import Synchronization

/// The live service graph from flows, for clusters without a mesh:
///
/// - `netwatch_flow_edge_connections_total{src_namespace,src_workload,dst_namespace,dst_workload,port,protocol}`:
///   flow reports observed on the edge (a flow report is one connection for short-lived TCP,
///   an export interval of a long-lived one); `rate()` of it is the edge's traffic;
/// - `netwatch_flow_edge_would_deny{…same labels} 1` for an edge first seen after its
///   FlowPolicy's policies froze that those policies would deny (audit mode's findings).
///
/// Bounded: for each FlowPolicy, the `perFlowPolicy` edges to or from its workloads with the
/// most flows have series; the rest of its edges are summed into one series with every
/// workload and namespace label `_other` except `src_namespace` (the FlowPolicy's namespace).
/// Ends that are not workloads are named without addresses, so outside peers cannot multiply
/// series: `world`, `node`, `kube-apiserver`, or `service/<name>` for a Service that did not
/// resolve to backends. A series that drops out of the top and comes back starts again from
/// its current count (Prometheus reads it as a counter reset).
public final class FlowEdgeMetric: Sendable {
    public static let connectionsName = "flow_edge_connections"
    public static let wouldDenyName = "flow_edge_would_deny"
    public static let other = "_other"

    public struct Key: Hashable, Sendable, Comparable {
        public var sourceNamespace: String
        public var sourceWorkload: String
        public var destinationNamespace: String
        public var destinationWorkload: String
        public var port: String
        public var transport: String

        var labels: [(String, String)] {
            [("src_namespace", sourceNamespace), ("src_workload", sourceWorkload), ("dst_namespace", destinationNamespace),
             ("dst_workload", destinationWorkload), ("port", port), ("protocol", transport)]
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.sourceNamespace, lhs.sourceWorkload, lhs.destinationNamespace, lhs.destinationWorkload, lhs.port, lhs.transport)
                < (rhs.sourceNamespace, rhs.sourceWorkload, rhs.destinationNamespace, rhs.destinationWorkload, rhs.port, rhs.transport)
        }
    }

    /// What a series shows: the flows counted and whether the edge would be denied.
    public struct Value: Hashable, Sendable {
        public var flows: Int
        public var wouldDeny: Bool
    }

    /// What the series are bounded by: one FlowPolicy's namespace, workloads and would-be-denied edges.
    public struct Scope: Sendable {
        public var namespace: String
        public var workloads: Set<WorkloadReference>
        public var wouldDeny: [ResolvedEdge]

        public init(namespace: String, workloads: Set<WorkloadReference>, wouldDeny: [ResolvedEdge] = []) {
            self.namespace = namespace
            self.workloads = workloads
            self.wouldDeny = wouldDeny
        }

        public init(_ plan: FlowPolicyPlan) {
            self.init(namespace: plan.namespace, workloads: Set(plan.workloads.map(\.workload)), wouldDeny: plan.deniedWouldBe)
        }
    }

    struct Series {
        var counter: Counter
        var counted: Int
        var wouldDeny: Gauge?
    }

    public let perFlowPolicy: Int
    private let registry: PrometheusCollectorRegistry
    private let series = Mutex<[Key: Series]>([:])

    public init(registry: PrometheusCollectorRegistry, perFlowPolicy: Int = 200) {
        self.registry = registry
        self.perFlowPolicy = perFlowPolicy
    }

    static func name(_ peer: Peer) -> (namespace: String, workload: String) {
        switch peer {
        case .workload(let workload): (workload.namespace, workload.name)
        case .service(let namespace, let name): (namespace, "service/\(name)")
        case .node: ("", "node")
        case .apiServer: ("", "kube-apiserver")
        case .external: ("", "world")
        }
    }

    static func key(_ edge: ResolvedEdge) -> Key {
        let client = name(edge.client), server = name(edge.server)
        let port: String = switch edge.port {
        case .int(let number): String(number)
        case .string(let named): named
        }
        return Key(sourceNamespace: client.namespace, sourceWorkload: client.workload, destinationNamespace: server.namespace,
                   destinationWorkload: server.workload, port: port, transport: edge.transport.rawValue)
    }

    /// The series `edges` make for `plans`: each FlowPolicy's top `limit` edges by flows (ties
    /// in edge order), the rest of its edges summed into its `_other` series; edges no
    /// FlowPolicy's workloads take part in have none.
    public static func series(_ edges: [ResolvedEdge], plans: [FlowPolicyPlan], limit: Int) -> [Key: Value] {
        series(edges, scopes: plans.map(Scope.init), limit: limit)
    }

    public static func series(_ edges: [ResolvedEdge], scopes: [Scope], limit: Int) -> [Key: Value] {
        var result: [Key: Value] = [:]
        var kept = Set<ResolvedEdge>()
        var rest: [(namespace: String, edges: [ResolvedEdge])] = []
        let wouldDeny = Set(scopes.flatMap { $0.wouldDeny.map(\.identity) })
        // Each workload's edges, once, so a scope reads only its own.
        var byWorkload: [WorkloadReference: [Int]] = [:]
        for (index, edge) in edges.enumerated() {
            if case .workload(let client) = edge.client { byWorkload[client, default: []].append(index) }
            if case .workload(let server) = edge.server, edge.server != edge.client { byWorkload[server, default: []].append(index) }
        }
        for scope in scopes {
            let mine = Set(scope.workloads.flatMap { byWorkload[$0] ?? [] }).sorted { (edges[$1].flows, $0) < (edges[$0].flows, $1) }.map { edges[$0] }
            kept.formUnion(mine.prefix(limit).map(\.identity))
            rest.append((scope.namespace, Array(mine.dropFirst(limit))))
        }
        for edge in edges where kept.contains(edge.identity) {
            var value = result[key(edge)] ?? Value(flows: 0, wouldDeny: false)
            value.flows += edge.flows
            value.wouldDeny = value.wouldDeny || wouldDeny.contains(edge.identity)
            result[key(edge)] = value
        }
        var summed = Set<ResolvedEdge>()
        for (namespace, edges) in rest {
            for edge in edges where !kept.contains(edge.identity) && summed.insert(edge.identity).inserted {
                let key = Key(sourceNamespace: namespace, sourceWorkload: other, destinationNamespace: other, destinationWorkload: other, port: other, transport: other)
                result[key, default: Value(flows: 0, wouldDeny: false)].flows += edge.flows
            }
        }
        return result
    }

    /// Makes the registry's series those of `edges` and `plans`; series no longer wanted are removed.
    public func update(_ edges: [ResolvedEdge], plans: [FlowPolicyPlan]) {
        update(edges, scopes: plans.map(Scope.init))
    }

    public func update(_ edges: [ResolvedEdge], scopes: [Scope]) {
        let wanted = Self.series(edges, scopes: scopes, limit: perFlowPolicy)
        series.withLock { series in
            for (key, current) in series where wanted[key] == nil {
                registry.unregisterCounter(current.counter)
                if let gauge = current.wouldDeny { registry.unregisterGauge(gauge) }
                series[key] = nil
            }
            for (key, value) in wanted {
                var current = series[key] ?? Series(counter: makeCounter(key), counted: 0, wouldDeny: nil)
                if value.flows < current.counted {  // counted again from fewer (a restart of learning): a counter reset
                    registry.unregisterCounter(current.counter)
                    current.counter = makeCounter(key)
                    current.counted = 0
                }
                current.counter.increment(by: Int64(value.flows - current.counted))
                current.counted = value.flows
                if value.wouldDeny, current.wouldDeny == nil {
                    let gauge = registry.makeGauge(descriptor: OperatorMetrics.name(Self.wouldDenyName,
                        "1 for a flow edge first seen after its FlowPolicy's policies froze that they would deny."), labels: key.labels)
                    gauge.set(to: 1)
                    current.wouldDeny = gauge
                } else if !value.wouldDeny, let gauge = current.wouldDeny {
                    registry.unregisterGauge(gauge)
                    current.wouldDeny = nil
                }
                series[key] = current
            }
        }
    }

    private func makeCounter(_ key: Key) -> Counter {
        registry.makeCounter(descriptor: OperatorMetrics.name(Self.connectionsName, unit: "total",
            "Flow reports observed between two workloads on a port (top edges per FlowPolicy; the rest summed into _other)."), labels: key.labels)
    }
}
