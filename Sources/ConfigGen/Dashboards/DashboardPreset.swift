/// A built-in dashboard: its variables and rows of panels as templates over its thresholds and
/// device exclusion.
struct DashboardPreset: Sendable {
    struct Query: Sendable {
        var expr: String
        var legend: String
        /// The same series from a recording rule of the alert packs, used when the stack loads it.
        var recorded: (record: String, expr: String)?

        init(expr: String, legend: String, recorded: (record: String, expr: String)? = nil) {
            self.expr = expr
            self.legend = legend
            self.recorded = recorded
        }

        func resolved(_ context: Context) -> String {
            guard let recorded, context.recordings.contains(recorded.record) else { return expr }
            return recorded.expr
        }
    }

    struct Panel: Sendable {
        /// `heatmap`: the series' values bucketed over time by Grafana (`calculate`), for a
        /// gauge such as a probe's duration that has no histogram of its own.
        enum Kind: String, Sendable { case timeseries, stat, gauge, table, nodeGraph, heatmap }

        var title: String
        var kind: Kind
        var unit: String
        var width: Int
        var queries: @Sendable (Context) -> [Query]
        /// Threshold key drawn as a line (timeseries) or a color step (stat, gauge).
        var threshold: String?
        var maximum: Double?
        var stacked = false
        /// Series whose legend ends with " out" are drawn below the axis.
        var mirrorOut = false
        /// Instant queries returned as tables (node graph, edge tables), with fields renamed.
        var table = false
        var renames: [(String, String)] = []
        /// Values below the threshold are the bad ones (days left, not errors per second).
        var redBelow = false
    }

    struct Row: Sendable {
        var title: String
        var panels: [Panel]
    }

    /// A Grafana template variable backed by a label_values() or query_result() query.
    struct Variable: Sendable {
        var name: String
        var label: String
        var query: @Sendable (Context) -> String
        var multi: Bool
        /// For query_result(): the regex that picks each value out of a result line.
        var regex: String? = nil
    }

    struct Context: Sendable {
        var excludeDevices: String
        /// Recording rules the stack's rule files define.
        var recordings: Set<String> = []
        /// The preset's thresholds, defaults filled in (for queries that compare with one).
        var thresholds: [String: Double] = [:]

        /// The threshold as a PromQL number literal.
        func t(_ key: String) -> String { AlertPack.Context.literal(thresholds[key] ?? .nan) }

        /// `device!~"<excludeDevices>"`, escaped for a PromQL string.
        var devices: String { "device!~\"\(AlertPack.Context.escape(excludeDevices))\"" }
    }

    var name: String
    var title: String
    var summary: String
    var thresholds: [AlertPack.Threshold]
    var variables: [Variable]
    var rows: [Row]
}

extension DashboardPreset {
    static let catalog: [DashboardPreset] = [nodeNetwork, podNetwork, sockets, mesh, serviceGraph, probes]

    static func named(_ name: String) -> DashboardPreset? { catalog.first { $0.name == name } }

    static let instanceVariable = Variable(name: "instance", label: "Instance", query: { _ in "label_values(node_network_receive_bytes_total, instance)" }, multi: false)

    static let nodeNetwork = DashboardPreset(
        name: "node-network", title: "Network / Nodes",
        summary: "Bandwidth, packets, drops and errors per interface, NIC saturation, TCP retransmits and states, conntrack, softirq.",
        thresholds: [
            .init(key: "dropsPerSecond", defaultValue: 1, minimum: 0, meaning: "drops per second drawn as a threshold line"),
            .init(key: "errorsPerSecond", defaultValue: 1, minimum: 0, meaning: "errors per second drawn as a threshold line"),
            .init(key: "nicSaturationRatio", defaultValue: 0.85, minimum: 0, maximum: 1, meaning: "link usage drawn in red above"),
            .init(key: "retransmitsPerSecond", defaultValue: 10, minimum: 0, meaning: "TCP retransmits per second shown red above"),
            .init(key: "timeWaitSockets", defaultValue: 10000, minimum: 0, meaning: "TIME_WAIT sockets shown red above"),
            .init(key: "conntrackUsageRatio", defaultValue: 0.8, minimum: 0, maximum: 1, meaning: "conntrack table usage shown red above"),
        ],
        variables: [
            instanceVariable,
            Variable(name: "device", label: "Device", query: { "label_values(node_network_receive_bytes_total{instance=~\"$instance\",\($0.devices)}, device)" }, multi: true),
        ],
        rows: [
            Row(title: "Traffic", panels: [
                Panel(title: "Bandwidth", kind: .timeseries, unit: "bps", width: 12, queries: { _ in [
                    Query(expr: "rate(node_network_receive_bytes_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval]) * 8", legend: "{{device}} in",
                          recorded: ("instance_device:node_network_receive_bytes:rate5m", "instance_device:node_network_receive_bytes:rate5m{instance=~\"$instance\",device=~\"$device\"} * 8")),
                    Query(expr: "rate(node_network_transmit_bytes_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval]) * 8", legend: "{{device}} out",
                          recorded: ("instance_device:node_network_transmit_bytes:rate5m", "instance_device:node_network_transmit_bytes:rate5m{instance=~\"$instance\",device=~\"$device\"} * 8")),
                ] }, mirrorOut: true),
                Panel(title: "Packets", kind: .timeseries, unit: "pps", width: 12, queries: { _ in [
                    Query(expr: "rate(node_network_receive_packets_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval])", legend: "{{device}} in"),
                    Query(expr: "rate(node_network_transmit_packets_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval])", legend: "{{device}} out"),
                ] }, mirrorOut: true),
                Panel(title: "NIC saturation", kind: .timeseries, unit: "percentunit", width: 24, queries: { _ in [
                    Query(expr: "rate(node_network_receive_bytes_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval]) * 8 / (node_network_speed_bytes{instance=~\"$instance\",device=~\"$device\"} * 8) and node_network_speed_bytes > 0", legend: "{{device}} in"),
                    Query(expr: "rate(node_network_transmit_bytes_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval]) * 8 / (node_network_speed_bytes{instance=~\"$instance\",device=~\"$device\"} * 8) and node_network_speed_bytes > 0", legend: "{{device}} out"),
                ] }, threshold: "nicSaturationRatio", maximum: 1),
            ]),
            Row(title: "Drops and errors", panels: [
                Panel(title: "Drops", kind: .timeseries, unit: "pps", width: 8, queries: { _ in [
                    Query(expr: "rate(node_network_receive_drop_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval])", legend: "{{device}} in",
                          recorded: ("instance_device:node_network_receive_drop:rate5m", "instance_device:node_network_receive_drop:rate5m{instance=~\"$instance\",device=~\"$device\"}")),
                    Query(expr: "rate(node_network_transmit_drop_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval])", legend: "{{device}} out",
                          recorded: ("instance_device:node_network_transmit_drop:rate5m", "instance_device:node_network_transmit_drop:rate5m{instance=~\"$instance\",device=~\"$device\"}")),
                ] }, threshold: "dropsPerSecond", stacked: true),
                Panel(title: "Errors", kind: .timeseries, unit: "pps", width: 8, queries: { _ in [
                    Query(expr: "rate(node_network_receive_errs_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval])", legend: "{{device}} in"),
                    Query(expr: "rate(node_network_transmit_errs_total{instance=~\"$instance\",device=~\"$device\"}[$__rate_interval])", legend: "{{device}} out"),
                ] }, threshold: "errorsPerSecond", stacked: true),
                // Next to drops: receive drops under load usually mean softirq processing cannot keep up.
                Panel(title: "Softirq CPU", kind: .timeseries, unit: "percentunit", width: 8, queries: { _ in [
                    Query(expr: "sum by (instance) (rate(node_cpu_seconds_total{instance=~\"$instance\",mode=\"softirq\"}[$__rate_interval]))", legend: "softirq (CPUs)"),
                ] }),
            ]),
            Row(title: "TCP and connection tracking", panels: [
                Panel(title: "TCP retransmits", kind: .stat, unit: "pps", width: 6, queries: { _ in [
                    Query(expr: "sum(rate(node_netstat_Tcp_RetransSegs{instance=~\"$instance\"}[$__rate_interval]))", legend: "retransmits"),
                ] }, threshold: "retransmitsPerSecond"),
                Panel(title: "TCP connection states", kind: .timeseries, unit: "short", width: 6, queries: { _ in [
                    Query(expr: "node_netstat_Tcp_CurrEstab{instance=~\"$instance\"}", legend: "established"),
                    Query(expr: "node_sockstat_TCP_tw{instance=~\"$instance\"}", legend: "time wait"),
                    Query(expr: "node_sockstat_TCP_orphan{instance=~\"$instance\"}", legend: "orphan"),
                ] }),
                Panel(title: "TIME_WAIT sockets", kind: .gauge, unit: "short", width: 6, queries: { _ in [
                    Query(expr: "sum(node_sockstat_TCP_tw{instance=~\"$instance\"})", legend: "time wait"),
                ] }, threshold: "timeWaitSockets"),
                Panel(title: "Conntrack usage", kind: .gauge, unit: "percentunit", width: 6, queries: { _ in [
                    Query(expr: "max(node_nf_conntrack_entries{instance=~\"$instance\"} / node_nf_conntrack_entries_limit{instance=~\"$instance\"})", legend: "usage"),
                ] }, threshold: "conntrackUsageRatio", maximum: 1),
            ]),
        ])

    static let sockets = DashboardPreset(
        name: "sockets", title: "Network / Sockets",
        summary: "Sockets in use, TIME_WAIT, orphans, TCP memory and listen-queue overflows per instance.",
        thresholds: [
            .init(key: "timeWaitSockets", defaultValue: 10000, minimum: 0, meaning: "TIME_WAIT sockets drawn as a threshold line"),
            .init(key: "listenOverflowsPerSecond", defaultValue: 1, minimum: 0, meaning: "listen overflows per second drawn as a threshold line"),
        ],
        variables: [instanceVariable],
        rows: [
            Row(title: "Sockets", panels: [
                Panel(title: "Sockets in use", kind: .timeseries, unit: "short", width: 12, queries: { _ in [
                    Query(expr: "node_sockstat_sockets_used{instance=~\"$instance\"}", legend: "all"),
                    Query(expr: "node_sockstat_TCP_inuse{instance=~\"$instance\"}", legend: "TCP"),
                    Query(expr: "node_sockstat_UDP_inuse{instance=~\"$instance\"}", legend: "UDP"),
                ] }),
                Panel(title: "TIME_WAIT", kind: .timeseries, unit: "short", width: 12, queries: { _ in [
                    Query(expr: "node_sockstat_TCP_tw{instance=~\"$instance\"}", legend: "time wait"),
                ] }, threshold: "timeWaitSockets"),
                Panel(title: "Orphaned sockets", kind: .timeseries, unit: "short", width: 8, queries: { _ in [
                    Query(expr: "node_sockstat_TCP_orphan{instance=~\"$instance\"}", legend: "orphan"),
                ] }),
                Panel(title: "TCP memory", kind: .timeseries, unit: "bytes", width: 8, queries: { _ in [
                    Query(expr: "node_sockstat_TCP_mem_bytes{instance=~\"$instance\"}", legend: "TCP memory"),
                ] }),
                Panel(title: "Listen overflows", kind: .timeseries, unit: "short", width: 8, queries: { _ in [
                    Query(expr: "rate(node_netstat_TcpExt_ListenOverflows{instance=~\"$instance\"}[$__rate_interval])", legend: "overflows/s"),
                    Query(expr: "rate(node_netstat_TcpExt_ListenDrops{instance=~\"$instance\"}[$__rate_interval])", legend: "drops/s"),
                ] }, threshold: "listenOverflowsPerSecond"),
            ]),
        ])

    static let mesh = DashboardPreset(
        name: "mesh", title: "Network / Service mesh",
        summary: "Istio request rate, error rate, latency percentiles, success rate and mTLS share per destination service; TCP bytes and connections; sidecar CPU and memory.",
        thresholds: [
            .init(key: "errorRatio", defaultValue: 0.05, minimum: 0, maximum: 1, meaning: "5xx ratio drawn as a threshold line"),
            .init(key: "p95LatencyMs", defaultValue: 1000, minimum: 0, meaning: "latency drawn as a threshold line"),
        ],
        variables: [
            Variable(name: "namespace", label: "Namespace", query: { _ in "label_values(istio_requests_total, destination_service_namespace)" }, multi: true),
            Variable(name: "service", label: "Service", query: { _ in "label_values(istio_requests_total{destination_service_namespace=~\"$namespace\"}, destination_service)" }, multi: true),
        ],
        rows: [
            Row(title: "Requests", panels: [
                Panel(title: "Request rate", kind: .timeseries, unit: "reqps", width: 8, queries: { _ in [
                    Query(expr: "sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval]))", legend: "{{destination_service}}",
                          recorded: ("destination_service:istio_requests:rate5m", "destination_service:istio_requests:rate5m{destination_service=~\"$service\"}")),
                ] }),
                Panel(title: "5xx error ratio", kind: .timeseries, unit: "percentunit", width: 8, queries: { _ in [
                    Query(expr: "sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\",destination_service=~\"$service\",response_code=~\"5..\"}[$__rate_interval])) / sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval]))", legend: "{{destination_service}}",
                          recorded: ("destination_service:istio_requests_5xx:ratio_rate5m", "destination_service:istio_requests_5xx:ratio_rate5m{destination_service=~\"$service\"}")),
                ] }, threshold: "errorRatio", maximum: 1),
                Panel(title: "Success rate", kind: .stat, unit: "percentunit", width: 8, queries: { _ in [
                    Query(expr: "sum(rate(istio_requests_total{reporter=\"destination\",destination_service=~\"$service\",response_code!~\"5..\"}[$__rate_interval])) / sum(rate(istio_requests_total{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval]))", legend: "success"),
                ] }),
                Panel(title: "Latency p50 / p95 / p99", kind: .timeseries, unit: "ms", width: 12, queries: { _ in ["0.5", "0.95", "0.99"].map { quantile in
                    Query(expr: "histogram_quantile(\(quantile), sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval])))",
                          legend: "{{destination_service}} p\(quantile == "0.5" ? "50" : quantile == "0.95" ? "95" : "99")")
                } }, threshold: "p95LatencyMs"),
                Panel(title: "mTLS share", kind: .timeseries, unit: "percentunit", width: 12, queries: { _ in [
                    Query(expr: "sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\",destination_service=~\"$service\",connection_security_policy=\"mutual_tls\"}[$__rate_interval])) / sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval]))", legend: "{{destination_service}}"),
                ] }, maximum: 1),
            ]),
            Row(title: "TCP and sidecars", panels: [
                Panel(title: "TCP bytes", kind: .timeseries, unit: "Bps", width: 12, queries: { _ in [
                    Query(expr: "sum by (destination_service) (rate(istio_tcp_received_bytes_total{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval]))", legend: "{{destination_service}} in"),
                    Query(expr: "sum by (destination_service) (rate(istio_tcp_sent_bytes_total{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval]))", legend: "{{destination_service}} out"),
                ] }, mirrorOut: true),
                Panel(title: "TCP connections", kind: .timeseries, unit: "short", width: 12, queries: { _ in [
                    Query(expr: "sum by (destination_service) (rate(istio_tcp_connections_opened_total{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval]))", legend: "{{destination_service}} opened/s"),
                    Query(expr: "sum by (destination_service) (rate(istio_tcp_connections_closed_total{reporter=\"destination\",destination_service=~\"$service\"}[$__rate_interval]))", legend: "{{destination_service}} closed/s"),
                ] }),
                Panel(title: "Sidecar CPU", kind: .timeseries, unit: "short", width: 12, queries: { _ in [
                    Query(expr: "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container=\"istio-proxy\",namespace=~\"$namespace\"}[$__rate_interval]))", legend: "{{namespace}}/{{pod}}"),
                ] }),
                Panel(title: "Sidecar memory", kind: .timeseries, unit: "bytes", width: 12, queries: { _ in [
                    Query(expr: "sum by (namespace, pod) (container_memory_working_set_bytes{container=\"istio-proxy\",namespace=~\"$namespace\"})", legend: "{{namespace}}/{{pod}}"),
                ] }),
            ]),
        ])
}

extension DashboardPreset {
    /// One series per edge, labelled `id` ("<source> -> <target>"), `source` and `target`
    /// ("<namespace>/<name>"), `color`, valued in `unit`s: Istio's requests from the client's
    /// sidecar (`<namespace>/<canonical service>`) and netwatch's flow edges
    /// (`<namespace>/<workload>`, outside peers `/world`) merge into one graph, Istio's value
    /// winning where both see an edge. Colours: red for an edge the learned policies would deny,
    /// orange for an edge whose 5xx ratio is above the threshold, green otherwise.
    static func graphEdges(_ context: Context, errors: Bool = false) -> String {
        func istio(_ selector: String) -> String {
            #"sum by (source_workload_namespace, source_canonical_service, destination_service_namespace, destination_canonical_service) (rate(istio_requests_total{reporter="source",destination_service_namespace=~"$namespace"\#(selector)}[$__rate_interval]))"#
        }
        func joined(_ expr: String, _ source: (String, String), _ target: (String, String)) -> String {
            #"label_join(label_join(label_join(\#(expr), "source", "/", "\#(source.0)", "\#(source.1)"), "target", "/", "\#(target.0)", "\#(target.1)"), "id", " -> ", "source", "target")"#
        }
        let istioEdges = joined(errors ? "\(istio(#",response_code=~"5..""#)) / \(istio(""))" : istio(""),
                                ("source_workload_namespace", "source_canonical_service"), ("destination_service_namespace", "destination_canonical_service"))
        // The flows pack's recording rule when the stack loads it (one series per workload pair, already a rate).
        let flowRate = context.recordings.contains(flowEdgeRecording)
            ? #"\#(flowEdgeRecording){src_workload!="_other",src_namespace=~"$namespace"} or \#(flowEdgeRecording){src_workload!="_other",dst_namespace=~"$namespace"}"#
            : #"rate(netwatch_flow_edge_connections_total{src_workload!="_other",src_namespace=~"$namespace"}[$__rate_interval]) or rate(netwatch_flow_edge_connections_total{src_workload!="_other",dst_namespace=~"$namespace"}[$__rate_interval])"#
        let flowEdges = joined("sum by (src_namespace, src_workload, dst_namespace, dst_workload) (\(flowRate))",
                               ("src_namespace", "src_workload"), ("dst_namespace", "dst_workload"))
        func colored(_ expr: String, _ color: String) -> String { #"sum by (id, source, target, color) (label_replace(\#(expr), "color", "\#(color)", "", ""))"# }
        if errors { return colored(istioEdges, "orange") }
        let denied = "\(flowEdges) and on (src_namespace, src_workload, dst_namespace, dst_workload) netwatch_flow_edge_would_deny"
        let failing = "\(istioEdges) and on (id) (\(graphEdges(context, errors: true)) > \(context.t("errorRatio")))"
        return [colored(denied, "red"), colored(failing, "orange"), colored(istioEdges, "green"), colored(flowEdges, "green")].joined(separator: " or on (id) ")
    }

    static let flowEdgeRecording = "edge:netwatch_flow_edge_connections:rate5m"

    /// One series per node, labelled `id`: every end of an edge of either source, valued by the
    /// first source that knows it (Istio's requests received, then sent; flows received, then sent).
    static let graphNodes: String = {
        let flowRate = #"rate(netwatch_flow_edge_connections_total{src_workload!="_other",src_namespace=~"$namespace"}[$__rate_interval]) or rate(netwatch_flow_edge_connections_total{src_workload!="_other",dst_namespace=~"$namespace"}[$__rate_interval])"#
        func node(_ expr: String, _ namespace: String, _ name: String) -> String {
            #"sum by (id) (label_join(sum by (\#(namespace), \#(name)) (\#(expr)), "id", "/", "\#(namespace)", "\#(name)"))"#
        }
        return [
            node(#"rate(istio_requests_total{reporter="destination",destination_service_namespace=~"$namespace"}[$__rate_interval])"#, "destination_service_namespace", "destination_canonical_service"),
            node(#"rate(istio_requests_total{reporter="source",destination_service_namespace=~"$namespace"}[$__rate_interval])"#, "source_workload_namespace", "source_canonical_service"),
            node(flowRate, "dst_namespace", "dst_workload"),
            node(flowRate, "src_namespace", "src_workload"),
        ].joined(separator: " or ")
    }()

    /// Namespaces that either source knows.
    static let graphNamespaces = #"query_result(count by (namespace) (label_replace(istio_requests_total, "namespace", "$1", "destination_service_namespace", "(.+)") or label_replace(netwatch_flow_edge_connections_total, "namespace", "$1", "src_namespace", "(.+)")))"#

    static let serviceGraph = DashboardPreset(
        name: "service-graph", title: "Network / Service graph",
        summary: "Who talks to whom: a node graph merging Istio's request metrics and netwatch's flow edges (clusters without a mesh get the graph from flows alone), edges coloured red when the learned policies would deny them and orange when their 5xx ratio is high; tables of edges with their rate and 5xx ratio.",
        thresholds: [.init(key: "errorRatio", defaultValue: 0.05, minimum: 0, maximum: 1, meaning: "edge 5xx ratio above which an edge is orange in the graph and red in the table")],
        variables: [Variable(name: "namespace", label: "Namespace", query: { _ in graphNamespaces }, multi: true, regex: #"/namespace="([^"]+)"/"#)],
        rows: [
            Row(title: "Service graph", panels: [
                Panel(title: "Service graph", kind: .nodeGraph, unit: "reqps", width: 24, queries: { context in [
                    Query(expr: graphNodes, legend: ""), Query(expr: graphEdges(context), legend: ""),
                ] }, table: true, renames: [("Value #A", "mainstat"), ("Value #B", "mainstat")]),
                Panel(title: "Edges: request or connection rate", kind: .table, unit: "reqps", width: 12, queries: { context in [Query(expr: graphEdges(context), legend: "")] },
                      table: true, renames: [("Value", "per second")]),
                Panel(title: "Edges: 5xx ratio", kind: .table, unit: "percentunit", width: 12, queries: { context in [Query(expr: graphEdges(context, errors: true), legend: "")] },
                      threshold: "errorRatio", table: true, renames: [("Value", "5xx ratio")]),
            ]),
        ])
}

/// Grafana unit ids netwatch accepts (a subset of `units.jsonschema.json` of the foundation SDK:
/// the rates, ratios, sizes, durations and plain numbers network dashboards use).
public enum GrafanaUnits {
    public static let known: Set<String> = [
        "none", "short", "percent", "percentunit", "bool_yes_no", "bool_on_off",
        "bps", "Bps", "binbps", "binBps", "Kbits", "Mbits", "Gbits", "KBs", "MBs", "GBs", "pps", "reqps", "rps", "ops", "wps", "iops",
        "bytes", "decbytes", "bits", "decbits", "kbytes", "mbytes", "gbytes",
        "ns", "µs", "ms", "s", "m", "h", "d", "dtdurations", "dtdurationms",
        "hertz", "celsius", "watt",
    ]
}

/// The built-in dashboard presets, for documentation and tooling.
public enum BuiltInDashboards {
    /// docs/dashboards.md: every preset, its thresholds and panels. A test keeps the committed
    /// file current.
    public static func markdown() -> String {
        var out = """
            # Built-in dashboard presets

            Generated from the preset catalog (`Sources/ConfigGen/Dashboards/DashboardPreset.swift`);
            `UPDATE_GOLDEN=1 swift test --filter DashboardTests` rewrites it. Use a preset from a
            `NetworkDashboard` object, selected by a MonitoringStack's `dashboardSelector`:

            ```yaml
            spec:
              preset: node-network
              title: Network — production nodes
              folder: Network
              excludeDevices: "lo|veth.*|eth1"   # replaces the default (loopback, veths, CNI devices: docs/alerts.md)
              thresholds: {dropsPerSecond: 1, retransmitsPerSecond: 10}
              panels:                                             # appended after the preset's
              - {title: Conntrack insert failures, expr: 'sum(rate(node_nf_conntrack_stat_insert_failed[$__rate_interval]))', unit: pps, type: stat}
            ```

            Every dashboard has a `datasource` variable (default: the stack's `grafana.datasourceUID`),
            uses it on every panel and query, and is delivered per the stack's `grafana.delivery`:
            `configMap` (labelled `grafana_dashboard: "1"`, folder in the `grafana_folder` and
            `k8s-sidecar-target-directory` annotations), `grafanaOperator` (a `GrafanaDashboard`), or
            `directory` (files only). JSON files `<ns>/<stack>/grafana/<uid>.json` are always written.
            Custom panel units: \(GrafanaUnits.known.sorted().map { "`\($0)`" }.joined(separator: ", ")).

            """
        for preset in DashboardPreset.catalog {
            out += "\n## \(preset.name)\n\n\(preset.summary) Default title: \(preset.title).\n\n"
            out += "Variables: " + (["datasource"] + preset.variables.map(\.name)).map { "`$\($0)`" }.joined(separator: ", ") + ".\n\n"
            out += "| threshold | default | range | meaning |\n|---|---|---|---|\n"
            for threshold in preset.thresholds {
                let range = threshold.maximum.map { "\(AlertPack.Context.literal(threshold.minimum))–\(AlertPack.Context.literal($0))" } ?? "≥ \(AlertPack.Context.literal(threshold.minimum))"
                out += "| `\(threshold.key)` | \(AlertPack.Context.literal(threshold.defaultValue)) | \(range) | \(threshold.meaning) |\n"
            }
            out += "\n| row | panel | type | unit |\n|---|---|---|---|\n"
            for row in preset.rows {
                for panel in row.panels { out += "| \(row.title) | \(panel.title) | \(panel.kind.rawValue) | `\(panel.unit)` |\n" }
            }
        }
        return out
    }
}
