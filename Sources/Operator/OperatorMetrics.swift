import ConfigGen
public import Prometheus

/// The operator's own metrics (swift-prometheus), exposed on `/metrics`.
public final class OperatorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let reconciles: Counter
    let reconcileErrors: Counter
    let reconcileDuration: DurationHistogram
    let applyErrors: Counter
    let reloadsSucceeded: Counter
    let reloadsFailed: Counter
    let fullRenders: Counter
    let incrementalRenders: Counter
    /// Pod change received from the watch → the changed output ready to write (netwatch's own
    /// time: queueing, incremental render, encoding).
    let podChangeRendered: DurationHistogram
    /// Pod change received from the watch → the changed files written, or the changed objects
    /// applied and answered by the API server.
    let podChangeWritten: DurationHistogram
    /// Pods and their workloads, for joins (set at scrape time).
    let podWorkloads: PodWorkloadMetric
    let queueDepth: Gauge
    let leading: Gauge
    let flowRecords: Counter
    let flowPackets: Counter
    /// The live service graph from flows (set by the leader's FlowPolicy reconciles).
    public let flowEdges: FlowEdgeMetric

    static func name(_ metric: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "netwatch", metricName: metric, unitName: unit, helpText: help)
    }

    public init() {
        podWorkloads = PodWorkloadMetric(registry: registry)
        flowEdges = FlowEdgeMetric(registry: registry)
        reconciles = registry.makeCounter(descriptor: Self.name("reconciles", unit: "total", "Reconciles run."))
        reconcileErrors = registry.makeCounter(descriptor: Self.name("reconcile_errors", unit: "total", "Reconciles that failed (retried with backoff)."))
        reconcileDuration = registry.makeDurationHistogram(
            descriptor: Self.name("reconcile_duration", unit: "seconds", "Time to render and write or apply everything."),
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30)])
        applyErrors = registry.makeCounter(descriptor: Self.name("apply_errors", unit: "total", "Writes of output (files or cluster objects) that failed."))
        let reloads = Self.name("reloads", unit: "total", "Prometheus reloads, by verified result.")
        reloadsSucceeded = registry.makeCounter(descriptor: reloads, labels: [("result", "success")])
        reloadsFailed = registry.makeCounter(descriptor: reloads, labels: [("result", "failure")])
        let renders = Self.name("renders", unit: "total", "Renders: full (the whole snapshot) or incremental (pod changes applied to the live render).")
        fullRenders = registry.makeCounter(descriptor: renders, labels: [("mode", "full")])
        incrementalRenders = registry.makeCounter(descriptor: renders, labels: [("mode", "incremental")])
        let podChange = Self.name("pod_change_duration", unit: "seconds",
                                  "Time from a pod change received from the watch to its output: ready to write (stage=rendered) and written or applied (stage=written).")
        let fine: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(3), .milliseconds(5), .milliseconds(7), .milliseconds(10), .milliseconds(15),
                                .milliseconds(20), .milliseconds(30), .milliseconds(40), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5)]
        podChangeRendered = registry.makeDurationHistogram(descriptor: podChange, labels: [("stage", "rendered")], buckets: fine)
        podChangeWritten = registry.makeDurationHistogram(descriptor: podChange, labels: [("stage", "written")], buckets: fine)
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", "Keys waiting in the reconcile queue."))
        leading = registry.makeGauge(descriptor: Self.name("leader", "1 while this replica holds the lease (always 1 without leader election)."))
        flowRecords = registry.makeCounter(descriptor: Self.name("flow_records", unit: "total", "NetFlow v9 and IPFIX flow records decoded by the FlowPolicy collectors."))
        flowPackets = registry.makeCounter(descriptor: Self.name("flow_export_packets", unit: "total", "NetFlow v9 and IPFIX datagrams received by the FlowPolicy collectors."))
    }

    /// The metrics in Prometheus's text exposition format, as `/metrics` serves them (without
    /// the gauges set at scrape time).
    public var exposition: String { String(decoding: registry.emitToBuffer(), as: UTF8.self) }

    /// Flow input that could not be used, by source: malformed export datagrams, unreadable
    /// Hubble lines, failed Istio queries. Each is skipped; the rest is still used.
    func flowBadRecords(source: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("flow_bad_records", unit: "total", "Flow input skipped because it could not be read, by source."), labels: [("source", source)])
    }

    /// Flow records decoded but not kept, by reason: `unknown_template` (data before its
    /// template), `expired_template` (template not refreshed), `connection_limit` (past the
    /// collector's connection bound).
    func flowDroppedRecords(reason: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("flow_dropped_records", unit: "total", "Flow records not kept, by reason."), labels: [("reason", reason)])
    }

    /// Templates refused because their exporter session was at its limit, and exporter
    /// sessions evicted to make room for others.
    func flowTemplateRefusals(reason: String) -> Counter {
        registry.makeCounter(descriptor: Self.name("flow_template_refusals", unit: "total", "Flow templates refused (template_limit) or exporter sessions evicted (exporter_evicted)."),
                             labels: [("reason", reason)])
    }

    /// A per-FlowPolicy gauge.
    func flowPolicyGauge(_ metric: String, _ help: String, _ plan: FlowPolicyPlan) -> Gauge {
        registry.makeGauge(descriptor: Self.name(metric, help), labels: [("namespace", plan.namespace), ("flowpolicy", plan.name)])
    }

    /// Per-kind gauges, set at scrape time from the reflectors.
    func cached(_ resource: String) -> Gauge {
        registry.makeGauge(descriptor: Self.name("objects_cached", "Objects in the watch cache, by resource."), labels: [("resource", resource)])
    }

    func relists(_ resource: String) -> Gauge {
        registry.makeGauge(descriptor: Self.name("watch_relists", "Relists after 410 Gone since start, by resource."), labels: [("resource", resource)])
    }

    func watchRestarts(_ resource: String) -> Gauge {
        registry.makeGauge(descriptor: Self.name("watch_restarts", "Watch reconnects since start, by resource."), labels: [("resource", resource)])
    }
}
