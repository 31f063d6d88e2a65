import NetWatchAPI

/// The built-in packs. Expressions follow node-mixin, kube-prometheus, awesome-prometheus-alerts
/// and Istio's own rules (../shared/reference/injection-dashboards-alerts.md §4), with their
/// known bugs fixed: descriptions print what `$value` really is (ratios as percentages), the
/// conntrack divisor carries the same selector, and ratios are guarded against idle devices.
/// The built-in packs and their alerts, by name (what `spec.packs[].name` and the per-alert
/// knobs accept).
public enum BuiltInRulePacks {
    public static var packs: [(name: String, summary: String, alerts: [String])] {
        AlertPack.catalog.map { ($0.name, $0.summary, $0.alerts.map(\.name)) }
    }

    /// docs/alerts.md: every pack, its thresholds (default and range) and its alerts (default
    /// `for` and severity, summary, runbook). A golden test keeps the committed file current.
    public static func markdown() -> String {
        var out = """
            # Built-in alert packs

            Generated from the pack catalog (`Sources/ConfigGen/Alerts/AlertPack+Catalog.swift`);
            `UPDATE_GOLDEN=1 swift test --filter RulePackTests` rewrites it. Use the packs from a
            `NetworkAlerts` object:

            ```yaml
            spec:
              packs:
              - name: tcp
                thresholds: {retransmitsPerSecond: 100}
                for: {NodeTCPRetransmitsHigh: 10m}
                severity: {NodeTCPRetransmitsHigh: critical}
                disabled: [NodeTCPInErrors]
              - name: node-network
                excludeDevices: "lo|veth.*|eth1"   # replaces the default (loopback, veths, CNI devices: docs/alerts.md)
            ```

            A knob that is unknown or out of range skips its pack (with a diagnostic naming the
            field); the other packs and the custom groups still render. Every alert carries the
            labels `severity` and `pack` and the annotations `summary`, `description` and
            `runbook_url` (`<runbookBaseURL>/<Alert>.md`, runbooks in docs/runbooks/).

            """
        for pack in AlertPack.catalog {
            out += "\n## \(pack.name)\n\n\(pack.summary)\n\n"
            if !pack.thresholds.isEmpty {
                out += "| threshold | default | range | meaning |\n|---|---|---|---|\n"
                for threshold in pack.thresholds {
                    let range = threshold.maximum.map { "\(AlertPack.Context.literal(threshold.minimum))–\(AlertPack.Context.literal($0))" } ?? "≥ \(AlertPack.Context.literal(threshold.minimum))"
                    out += "| `\(threshold.key)` | \(AlertPack.Context.literal(threshold.defaultValue)) | \(range) | \(threshold.meaning) |\n"
                }
                out += "\n"
            }
            out += "| alert | for | severity | summary |\n|---|---|---|---|\n"
            for alert in pack.alerts {
                out += "| [`\(alert.name)`](runbooks/\(alert.name).md) | \(alert.defaultFor) | \(alert.defaultSeverity) | \(alert.summary) |\n"
            }
            if !pack.recordings.isEmpty {
                out += "\nRecording rules: " + pack.recordings.map { "`\($0.record)`" }.joined(separator: ", ") + ".\n"
            }
        }
        out += """

            ## Network devices

            The node-network pack and the node dashboards leave out, by default, the devices below:
            their traffic is also counted on a physical device, or is pod traffic the per-pod views
            show, and CNI devices must not raise node alerts. Physical, bond, VLAN, InfiniBand and
            wireless devices (\(NetworkDevices.keptExamples.map { "`\($0)`" }.joined(separator: ", "))) are kept. Set
            `excludeDevices` (a pack knob of NetworkAlerts, a field of NetworkDashboard) to replace
            the whole default, e.g. with your own list plus these patterns.

            | created by | pattern | examples |
            |---|---|---|

            """
        for family in NetworkDevices.excludedFamilies {
            let pattern = family.pattern.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
            out += "| \(family.creator) | `\(pattern)` | \(family.examples.map { "`\($0)`" }.joined(separator: ", ")) |\n"
        }
        return out
    }
}

extension AlertPack {
    static let catalog: [AlertPack] = [nodeNetwork, podNetwork, tcp, sockets, conntrack, mesh, flows, probes, netwatch]

    static func named(_ name: String) -> AlertPack? { catalog.first { $0.name == name } }

    static let nodeNetwork = AlertPack(
        name: "node-network",
        summary: "Interface drops, errors, saturation, flapping and bonding (node_exporter netdev, bonding).",
        thresholds: [
            Threshold(key: "receiveDropsPerSecond", defaultValue: 10, minimum: 0, meaning: "received packets dropped per second"),
            Threshold(key: "transmitDropsPerSecond", defaultValue: 10, minimum: 0, meaning: "transmitted packets dropped per second"),
            Threshold(key: "errorRatio", defaultValue: 0.01, minimum: 0, maximum: 1, meaning: "errors as a ratio of packets"),
            Threshold(key: "errorsPerSecond", defaultValue: 10, minimum: 0, meaning: "receive plus transmit errors per second"),
            Threshold(key: "nicSaturationRatio", defaultValue: 0.85, minimum: 0, maximum: 1, meaning: "throughput as a ratio of the link speed"),
            Threshold(key: "flapsPer2m", defaultValue: 2, minimum: 0, meaning: "link state changes in 2 minutes"),
        ],
        alerts: [
            Alert(name: "NodeNetworkReceiveDrops", defaultFor: "2m", defaultSeverity: "warning",
                  expr: { "rate(node_network_receive_drop_total{\($0.devices)}[5m]) > \($0.t("receiveDropsPerSecond"))" },
                  summary: "Network interface drops received packets.",
                  description: "{{ $labels.instance }} interface {{ $labels.device }} drops {{ $value | humanize }} received packets per second."),
            Alert(name: "NodeNetworkTransmitDrops", defaultFor: "2m", defaultSeverity: "warning",
                  expr: { "rate(node_network_transmit_drop_total{\($0.devices)}[5m]) > \($0.t("transmitDropsPerSecond"))" },
                  summary: "Network interface drops packets it should transmit.",
                  description: "{{ $labels.instance }} interface {{ $labels.device }} drops {{ $value | humanize }} packets per second on transmit."),
            Alert(name: "NodeNetworkReceiveErrors", defaultFor: "1h", defaultSeverity: "warning",
                  expr: { "rate(node_network_receive_errs_total{\($0.devices)}[2m]) / rate(node_network_receive_packets_total{\($0.devices)}[2m]) > \($0.t("errorRatio"))" },
                  summary: "Network interface reports many receive errors.",
                  description: "{{ $labels.instance }} interface {{ $labels.device }}: {{ $value | humanizePercentage }} of received packets had errors over the last two minutes."),
            Alert(name: "NodeNetworkTransmitErrors", defaultFor: "1h", defaultSeverity: "warning",
                  expr: { "rate(node_network_transmit_errs_total{\($0.devices)}[2m]) / rate(node_network_transmit_packets_total{\($0.devices)}[2m]) > \($0.t("errorRatio"))" },
                  summary: "Network interface reports many transmit errors.",
                  description: "{{ $labels.instance }} interface {{ $labels.device }}: {{ $value | humanizePercentage }} of transmitted packets had errors over the last two minutes."),
            Alert(name: "NodeNetworkErrorRate", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "rate(node_network_receive_errs_total{\($0.devices)}[5m]) + rate(node_network_transmit_errs_total{\($0.devices)}[5m]) > \($0.t("errorsPerSecond"))" },
                  summary: "Network interface reports errors at a high rate.",
                  description: "{{ $labels.instance }} interface {{ $labels.device }} reports {{ $value | humanize }} errors per second (receive plus transmit)."),
            Alert(name: "NodeNetworkReceiveSaturation", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "(rate(node_network_receive_bytes_total{\($0.devices)}[5m]) * 8) / (node_network_speed_bytes{\($0.devices)} * 8) > \($0.t("nicSaturationRatio")) and node_network_speed_bytes{\($0.devices)} > 0" },
                  summary: "Network interface receives close to its link speed.",
                  description: "{{ $labels.instance }} interface {{ $labels.device }} receives at {{ $value | humanizePercentage }} of its link speed."),
            Alert(name: "NodeNetworkTransmitSaturation", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "(rate(node_network_transmit_bytes_total{\($0.devices)}[5m]) * 8) / (node_network_speed_bytes{\($0.devices)} * 8) > \($0.t("nicSaturationRatio")) and node_network_speed_bytes{\($0.devices)} > 0" },
                  summary: "Network interface transmits close to its link speed.",
                  description: "{{ $labels.instance }} interface {{ $labels.device }} transmits at {{ $value | humanizePercentage }} of its link speed."),
            Alert(name: "NodeNetworkInterfaceFlapping", defaultFor: "2m", defaultSeverity: "warning",
                  expr: { "changes(node_network_up{\($0.devices)}[2m]) > \($0.t("flapsPer2m"))" },
                  summary: "Network interface is flapping.",
                  description: "{{ $labels.instance }} interface {{ $labels.device }} changed its up state {{ $value }} times in two minutes."),
            Alert(name: "NodeBondingDegraded", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { _ in "(node_bonding_slaves - node_bonding_active) != 0" },
                  summary: "Bonding interface is degraded.",
                  description: "{{ $labels.instance }} bond {{ $labels.master }} has {{ $value }} inactive member(s)."),
        ],
        recordings: ["receive", "transmit"].flatMap { direction in
            [
                Recording(record: "instance:node_network_\(direction)_bytes_excluding_virtual:rate5m",
                          expr: { "sum without (device) (rate(node_network_\(direction)_bytes_total{\($0.devices)}[5m]))" }),
                Recording(record: "instance:node_network_\(direction)_drop_excluding_virtual:rate5m",
                          expr: { "sum without (device) (rate(node_network_\(direction)_drop_total{\($0.devices)}[5m]))" }),
                Recording(record: "instance_device:node_network_\(direction)_bytes:rate5m",
                          expr: { "rate(node_network_\(direction)_bytes_total{\($0.devices)}[5m])" }),
                Recording(record: "instance_device:node_network_\(direction)_drop:rate5m",
                          expr: { "rate(node_network_\(direction)_drop_total{\($0.devices)}[5m])" }),
            ]
        })

    static let tcp = AlertPack(
        name: "tcp",
        summary: "Retransmits, listen-queue overflows and drops, TCP input errors (node_exporter netstat).",
        thresholds: [
            Threshold(key: "retransmitsPerSecond", defaultValue: 50, minimum: 0, meaning: "retransmitted segments per second"),
            Threshold(key: "retransmitRatio", defaultValue: 0.05, minimum: 0, maximum: 1, meaning: "retransmitted segments as a ratio of segments sent"),
            Threshold(key: "listenOverflowsPerSecond", defaultValue: 0, minimum: 0, meaning: "listen-queue overflows per second"),
            Threshold(key: "listenDropsPerSecond", defaultValue: 0, minimum: 0, meaning: "SYNs dropped at listening sockets per second"),
            Threshold(key: "inErrorsPerSecond", defaultValue: 1, minimum: 0, meaning: "TCP segments received with errors per second"),
        ],
        alerts: [
            Alert(name: "NodeTCPRetransmitsHigh", defaultFor: "3m", defaultSeverity: "warning",
                  expr: { "rate(node_netstat_Tcp_RetransSegs[5m]) > \($0.t("retransmitsPerSecond"))" },
                  summary: "Host retransmits many TCP segments.",
                  description: "{{ $labels.instance }} retransmits {{ $value | humanize }} TCP segments per second: packet loss or congestion on its paths."),
            Alert(name: "NodeTCPRetransmitRatioHigh", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "rate(node_netstat_Tcp_RetransSegs[5m]) / rate(node_netstat_Tcp_OutSegs[5m]) > \($0.t("retransmitRatio")) and rate(node_netstat_Tcp_OutSegs[5m]) > 0" },
                  summary: "A large share of the host's TCP segments are retransmissions.",
                  description: "{{ $labels.instance }}: {{ $value | humanizePercentage }} of TCP segments sent are retransmissions."),
            Alert(name: "NodeTCPListenOverflows", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "rate(node_netstat_TcpExt_ListenOverflows[5m]) > \($0.t("listenOverflowsPerSecond"))" },
                  summary: "Listen queues overflow: connections are refused or delayed.",
                  description: "{{ $labels.instance }} overflows accept queues {{ $value | humanize }} times per second; a server does not accept() fast enough or its backlog is too small."),
            Alert(name: "NodeTCPListenDrops", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "rate(node_netstat_TcpExt_ListenDrops[5m]) > \($0.t("listenDropsPerSecond"))" },
                  summary: "Listening sockets drop incoming connections.",
                  description: "{{ $labels.instance }} drops {{ $value | humanize }} incoming connection attempts per second at listening sockets."),
            Alert(name: "NodeTCPInErrors", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "rate(node_netstat_Tcp_InErrs[5m]) > \($0.t("inErrorsPerSecond"))" },
                  summary: "Host receives TCP segments with errors.",
                  description: "{{ $labels.instance }} receives {{ $value | humanize }} erroneous TCP segments per second (bad checksums, malformed headers)."),
        ],
        recordings: [
            Recording(record: "instance:node_netstat_Tcp_RetransSegs:rate5m", expr: { _ in "rate(node_netstat_Tcp_RetransSegs[5m])" }),
            Recording(record: "instance:node_netstat_Tcp_RetransSegs:ratio_rate5m",
                      expr: { _ in "rate(node_netstat_Tcp_RetransSegs[5m]) / rate(node_netstat_Tcp_OutSegs[5m])" }),
        ])

    static let sockets = AlertPack(
        name: "sockets",
        summary: "TIME_WAIT build-up and sockets near the file-descriptor limit (node_exporter sockstat, filefd).",
        thresholds: [
            Threshold(key: "timeWaitSockets", defaultValue: 15000, minimum: 0, meaning: "sockets in TIME_WAIT"),
            Threshold(key: "socketsUsedRatio", defaultValue: 0.8, minimum: 0, maximum: 1, meaning: "sockets in use as a ratio of the file-descriptor limit"),
        ],
        alerts: [
            Alert(name: "NodeTimeWaitSocketsHigh", defaultFor: "10m", defaultSeverity: "warning",
                  expr: { "node_sockstat_TCP_tw > \($0.t("timeWaitSockets"))" },
                  summary: "Many TCP sockets in TIME_WAIT.",
                  description: "{{ $labels.instance }} has {{ $value | humanize }} sockets in TIME_WAIT: short-lived connections without reuse may exhaust ephemeral ports."),
            Alert(name: "NodeSocketsNearLimit", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "node_sockstat_sockets_used / node_filefd_maximum > \($0.t("socketsUsedRatio"))" },
                  summary: "Sockets in use are close to the file-descriptor limit.",
                  description: "{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its file-descriptor limit for sockets."),
        ],
        recordings: [])

    static let conntrack = AlertPack(
        name: "conntrack",
        summary: "Connection-tracking table usage, insertion failures and drops (node_exporter conntrack).",
        thresholds: [
            Threshold(key: "conntrackUsageRatio", defaultValue: 0.8, minimum: 0, maximum: 1, meaning: "conntrack entries as a ratio of the table limit"),
            Threshold(key: "insertFailuresPerSecond", defaultValue: 0, minimum: 0, meaning: "conntrack insertion failures per second"),
            Threshold(key: "dropsPerSecond", defaultValue: 0, minimum: 0, meaning: "packets dropped by conntrack per second"),
        ],
        alerts: [
            Alert(name: "NodeConntrackTableFull", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "node_nf_conntrack_entries / node_nf_conntrack_entries_limit > \($0.t("conntrackUsageRatio")) and node_nf_conntrack_entries_limit > 0" },
                  summary: "The connection-tracking table is nearly full.",
                  description: "{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its conntrack table; new connections are dropped when it is full."),
            Alert(name: "NodeConntrackInsertFailures", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "sum without (cpu) (rate(node_nf_conntrack_stat_insert_failed[5m])) > \($0.t("insertFailuresPerSecond"))" },
                  summary: "Connection tracking fails to insert entries.",
                  description: "{{ $labels.instance }} fails {{ $value | humanize }} conntrack insertions per second (races or a full table)."),
            Alert(name: "NodeConntrackDrops", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "sum without (cpu) (rate(node_nf_conntrack_stat_drop[5m]) + rate(node_nf_conntrack_stat_early_drop[5m])) > \($0.t("dropsPerSecond"))" },
                  summary: "Connection tracking drops packets.",
                  description: "{{ $labels.instance }} drops {{ $value | humanize }} packets per second in conntrack."),
        ],
        recordings: [])

    static let mesh = AlertPack(
        name: "mesh",
        summary: "Istio service errors, latency, plaintext traffic, TCP connection failures and missing telemetry.",
        thresholds: [
            Threshold(key: "errorRatio", defaultValue: 0.05, minimum: 0, maximum: 1, meaning: "5xx responses as a ratio of requests"),
            Threshold(key: "minRequestsPerSecond", defaultValue: 0, minimum: 0, meaning: "traffic below which a service is not judged"),
            Threshold(key: "p95LatencyMs", defaultValue: 1000, minimum: 0, meaning: "95th-percentile request latency in milliseconds"),
            Threshold(key: "plaintextRequestsPerSecond", defaultValue: 0, minimum: 0, meaning: "requests per second without mutual TLS"),
            Threshold(key: "tcpConnectionFailuresPerSecond", defaultValue: 0, minimum: 0, meaning: "upstream TCP connection failures per second"),
        ],
        alerts: [
            Alert(name: "MeshServiceErrorRatioHigh", defaultFor: "5m", defaultSeverity: "critical",
                  expr: { """
                      sum by (destination_service) (rate(istio_requests_total{reporter="destination",response_code=~"5.."}[5m])) / sum by (destination_service) (rate(istio_requests_total{reporter="destination"}[5m])) > \($0.t("errorRatio")) and sum by (destination_service) (rate(istio_requests_total{reporter="destination"}[5m])) > \($0.t("minRequestsPerSecond"))
                      """ },
                  summary: "A service answers many requests with 5xx.",
                  description: "{{ $labels.destination_service }} answers {{ $value | humanizePercentage }} of its requests with 5xx."),
            Alert(name: "MeshServiceLatencyHigh", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "histogram_quantile(0.95, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\"}[5m]))) > \($0.t("p95LatencyMs"))" },
                  summary: "A service's 95th-percentile latency is high.",
                  description: "95% of requests to {{ $labels.destination_service }} complete within {{ $value | humanize }} ms, above the threshold."),
            Alert(name: "MeshPlaintextTraffic", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\",connection_security_policy!=\"mutual_tls\"}[5m])) > \($0.t("plaintextRequestsPerSecond"))" },
                  summary: "A service receives traffic without mutual TLS.",
                  description: "{{ $labels.destination_service }} receives {{ $value | humanize }} requests per second without mutual TLS."),
            Alert(name: "MeshTCPConnectionFailures", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "sum by (destination_service) (rate(istio_tcp_connections_closed_total{reporter=\"source\",response_flags=~\"UF|UH|URX|UO\"}[5m])) > \($0.t("tcpConnectionFailuresPerSecond"))" },
                  summary: "TCP connections to a service fail.",
                  description: "{{ $value | humanize }} TCP connections per second to {{ $labels.destination_service }} fail upstream (Envoy flags UF, UH, URX, UO)."),
            Alert(name: "MeshMetricsAbsent", defaultFor: "10m", defaultSeverity: "warning",
                  expr: { _ in "absent(istio_requests_total) == 1 or absent(istio_request_duration_milliseconds_bucket) == 1" },
                  summary: "Istio request metrics are missing.",
                  description: "No istio_requests_total or istio_request_duration_milliseconds_bucket series: sidecars are not scraped or telemetry is off."),
        ],
        recordings: [
            Recording(record: "destination_service:istio_requests:rate5m",
                      expr: { _ in "sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\"}[5m]))" }),
            Recording(record: "destination_service:istio_requests_5xx:ratio_rate5m",
                      expr: { _ in "sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\",response_code=~\"5..\"}[5m])) / sum by (destination_service) (rate(istio_requests_total{reporter=\"destination\"}[5m]))" }),
            Recording(record: "destination_service:istio_request_duration_milliseconds:p95_rate5m",
                      expr: { _ in "histogram_quantile(0.95, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket{reporter=\"destination\"}[5m])))" }),
        ])

    /// The service graph from flows (`netwatch_flow_edge_*`, exported by the operator's leader)
    /// and, where Istio runs, its per-edge request metrics.
    static let flows = AlertPack(
        name: "flows",
        summary: "The live service graph: connections never seen before (a new peer or port), connections the learned policies would deny, and edges whose errors or retries spike.",
        thresholds: [
            Threshold(key: "newEdgeLookback", defaultValue: 24, minimum: 1, maximum: 720, meaning: "hours an edge must have been absent to count as new"),
            Threshold(key: "edgeErrorRatio", defaultValue: 0.05, minimum: 0, maximum: 1, meaning: "5xx responses as a ratio of an edge's requests (Istio)"),
            Threshold(key: "edgeRetryExhaustionsPerSecond", defaultValue: 1, minimum: 0, meaning: "requests per second on an edge that failed after Envoy's retries ran out (Istio flag URX)"),
        ],
        alerts: [
            Alert(name: "FlowEdgeNew", defaultFor: "0s", defaultSeverity: "info",
                  expr: { context in
                      let seen = "max_over_time(netwatch_flow_edge_connections_total[\(context.t("newEdgeLookback"))h] offset 15m)"
                      return "\(edge) unless on (\(edgeLabels)) \(seen) and on () (count(\(seen)) > 0)"
                  },
                  summary: "A workload talks to a peer or on a port never seen before.",
                  description: "{{ $labels.src_namespace }}/{{ $labels.src_workload }} → {{ $labels.dst_namespace }}/{{ $labels.dst_workload }} on {{ $labels.port }}/{{ $labels.protocol }} appeared in the flow graph; it was not observed over the lookback before."),
            Alert(name: "FlowEdgeWouldBeDenied", defaultFor: "0s", defaultSeverity: "warning",
                  expr: { _ in "max by (\(edgeLabels)) (netwatch_flow_edge_would_deny) == 1" },
                  summary: "A connection the learned NetworkPolicies would deny is in use.",
                  description: "{{ $labels.src_namespace }}/{{ $labels.src_workload }} → {{ $labels.dst_namespace }}/{{ $labels.dst_workload }} on {{ $labels.port }}/{{ $labels.protocol }} was first seen after its FlowPolicy's policies froze; enforcing them would break it."),
            Alert(name: "FlowEdgeErrorRatioHigh", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "\(istioEdge(#"response_code=~"5..""#)) / \(istioEdge("")) > \($0.t("edgeErrorRatio"))" },
                  summary: "Requests on one edge of the service graph fail.",
                  description: "{{ $labels.source_workload_namespace }}/{{ $labels.source_workload }} → {{ $labels.destination_service }}: {{ $value | humanizePercentage }} of requests answered with 5xx."),
            Alert(name: "FlowEdgeRetryStorm", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "\(istioEdge(#"response_flags=~".*URX.*""#)) > \($0.t("edgeRetryExhaustionsPerSecond"))" },
                  summary: "Requests on one edge exhaust their retries.",
                  description: "{{ $labels.source_workload_namespace }}/{{ $labels.source_workload }} → {{ $labels.destination_service }}: {{ $value | humanize }} requests per second failed after Envoy retried them (URX)."),
        ],
        recordings: [
            Recording(record: "edge:netwatch_flow_edge_connections:rate5m", expr: { _ in
                "sum by (src_namespace, src_workload, dst_namespace, dst_workload) (rate(netwatch_flow_edge_connections_total[5m]))"
            }),
        ])

    static let edgeLabels = "src_namespace, src_workload, dst_namespace, dst_workload, port, protocol"

    /// Every flow edge with a series of its own (not the summed `_other`), port and protocol kept.
    static let edge = "max by (\(edgeLabels)) (netwatch_flow_edge_connections_total{src_workload!=\"_other\"})"

    /// Requests per second per edge as the client's sidecar reports them, with `selector` added.
    static func istioEdge(_ selector: String) -> String {
        "sum by (source_workload_namespace, source_workload, destination_service) (rate(istio_requests_total{reporter=\"source\"\(selector.isEmpty ? "" : "," + selector)}[5m]))"
    }

    /// Pods whose cAdvisor counters are the node's (host network) are left out, so node traffic
    /// is not counted again per pod: netwatch's own `netwatch_pod_workload` says which, and
    /// kube-state-metrics' `kube_pod_info` where netwatch does not scrape the pod's namespace.
    static let notHostNetwork = #"unless on (namespace, pod) (netwatch_pod_workload{host_network="true"} or kube_pod_info{host_network="true"})"#

    /// Each pod's owning workload as `{namespace, pod, workload, workload_kind}`: netwatch's own
    /// `netwatch_pod_workload`, and for pods it does not export, kube-state-metrics'
    /// `kube_pod_owner` (a ReplicaSet read as the Deployment `kube_replicaset_owner` names, a pod
    /// without an owner as its own workload of kind `Pod`, as netwatch does). `workload` is an
    /// optional regex matcher on the workload name (a dashboard variable).
    static func podWorkload(matching workload: String? = nil) -> String {
        let name = workload.map { #"=~"\#($0)""# }
        func matcher(_ label: String) -> String { name.map { ",\(label)\($0)" } ?? "" }
        let own = "max by (namespace, pod, workload, workload_kind) (netwatch_pod_workload" + (name.map { "{workload\($0)}" } ?? "") + ")"
        let direct = #"label_replace(label_replace(kube_pod_owner{owner_kind!~"ReplicaSet|<none>""# + matcher("owner_name")
            + #"}, "workload", "$1", "owner_name", "(.*)"), "workload_kind", "$1", "owner_kind", "(.*)")"#
        let bare = #"label_replace(label_replace(kube_pod_owner{owner_kind="<none>""# + matcher("pod")
            + #"}, "workload", "$1", "pod", "(.*)"), "workload_kind", "Pod", "", "")"#
        let replicaSets = #"label_replace(label_replace(max by (namespace, pod, replicaset) (label_replace(kube_pod_owner{owner_kind="ReplicaSet"}, "replicaset", "$1", "owner_name", "(.*)"))"#
            + #" * on (namespace, replicaset) group_left (owner_name) max by (namespace, replicaset, owner_name) (kube_replicaset_owner{owner_kind="Deployment""# + matcher("owner_name")
            + #"}), "workload", "$1", "owner_name", "(.*)"), "workload_kind", "Deployment", "", "")"#
        return "(\(own) or on (namespace, pod) max by (namespace, pod, workload, workload_kind) (\(direct) or \(bare) or \(replicaSets)))"
    }

    /// Parenthesised: `unless` binds more loosely than the comparison that follows.
    static func podRate(_ metric: String) -> String {
        #"(sum by (namespace, pod) (rate(\#(metric){pod!=""}[5m])) "# + notHostNetwork + ")"
    }

    static let podNetwork = AlertPack(
        name: "pod-network",
        summary: "Per-pod packet drops and errors from the kubelet's cAdvisor (container_network_*), without injecting anything; host-network pods are left out.",
        thresholds: [
            Threshold(key: "dropsPerSecond", defaultValue: 1, minimum: 0, meaning: "packets dropped per second by a pod's interfaces"),
            Threshold(key: "errorsPerSecond", defaultValue: 1, minimum: 0, meaning: "packet errors per second on a pod's interfaces"),
        ],
        alerts: [
            Alert(name: "PodNetworkReceiveDrops", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "\(podRate("container_network_receive_packets_dropped_total")) > \($0.t("dropsPerSecond"))" },
                  summary: "A pod drops received packets.",
                  description: "{{ $labels.namespace }}/{{ $labels.pod }} drops {{ $value | humanize }} received packets per second."),
            Alert(name: "PodNetworkTransmitDrops", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "\(podRate("container_network_transmit_packets_dropped_total")) > \($0.t("dropsPerSecond"))" },
                  summary: "A pod drops packets it should transmit.",
                  description: "{{ $labels.namespace }}/{{ $labels.pod }} drops {{ $value | humanize }} packets per second on transmit."),
            Alert(name: "PodNetworkReceiveErrors", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "\(podRate("container_network_receive_errors_total")) > \($0.t("errorsPerSecond"))" },
                  summary: "A pod's interfaces report receive errors.",
                  description: "{{ $labels.namespace }}/{{ $labels.pod }} reports {{ $value | humanize }} receive errors per second."),
            Alert(name: "PodNetworkTransmitErrors", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "\(podRate("container_network_transmit_errors_total")) > \($0.t("errorsPerSecond"))" },
                  summary: "A pod's interfaces report transmit errors.",
                  description: "{{ $labels.namespace }}/{{ $labels.pod }} reports {{ $value | humanize }} transmit errors per second."),
        ],
        recordings: [
            Recording(record: "namespace_pod:container_network_receive_bytes:rate5m", expr: { _ in podRate("container_network_receive_bytes_total") }),
            Recording(record: "namespace_pod:container_network_transmit_bytes:rate5m", expr: { _ in podRate("container_network_transmit_bytes_total") }),
            Recording(record: "namespace_workload:container_network_receive_bytes:rate5m", expr: { _ in
                "sum by (namespace, workload, workload_kind) (namespace_pod:container_network_receive_bytes:rate5m * on (namespace, pod) group_left (workload, workload_kind) \(podWorkload()))"
            }),
            Recording(record: "namespace_workload:container_network_transmit_bytes:rate5m", expr: { _ in
                "sum by (namespace, workload, workload_kind) (namespace_pod:container_network_transmit_bytes:rate5m * on (namespace, pod) group_left (workload, workload_kind) \(podWorkload()))"
            }),
        ])

    static let probes = AlertPack(
        name: "probes",
        summary: "Synthetic checks by blackbox_exporter (NetworkProbes, prometheus-operator Probes): failures, latency, ICMP loss, DNS, certificates, HTTP status.",
        thresholds: [
            Threshold(key: "p95LatencySeconds", defaultValue: 1, minimum: 0, meaning: "95th-percentile probe duration over 10 minutes, in seconds"),
            Threshold(key: "icmpLossRatio", defaultValue: 0.1, minimum: 0, maximum: 1, meaning: "failed ICMP probes as a ratio over 10 minutes"),
            Threshold(key: "certificateDays", defaultValue: 14, minimum: 0, meaning: "days left before the earliest certificate expires"),
            Threshold(key: "httpErrorStatus", defaultValue: 500, minimum: 100, maximum: 599, meaning: "lowest HTTP status counted as an error"),
        ],
        alerts: [
            Alert(name: "ProbeFailed", defaultFor: "2m", defaultSeverity: "warning",
                  expr: { _ in "probe_success == 0" },
                  summary: "A probe fails.",
                  description: "{{ $labels.job }} cannot reach {{ $labels.instance }}: every probe failed for the alert's `for` duration."),
            Alert(name: "ProbeSlow", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "quantile_over_time(0.95, probe_duration_seconds[10m]) > \($0.t("p95LatencySeconds"))" },
                  summary: "A probe target answers slowly.",
                  description: "95% of {{ $labels.job }}'s probes of {{ $labels.instance }} over 10 minutes took up to {{ $value | humanizeDuration }}."),
            Alert(name: "ProbeICMPPacketLoss", defaultFor: "5m", defaultSeverity: "warning",
                  expr: { "1 - avg_over_time(probe_success[10m]) > \($0.t("icmpLossRatio")) and on (job, instance) count_over_time(probe_icmp_duration_seconds{phase=\"rtt\"}[10m]) > 0" },
                  summary: "Pings to a target are lost.",
                  description: "{{ $value | humanizePercentage }} of {{ $labels.job }}'s pings to {{ $labels.instance }} failed over 10 minutes."),
            Alert(name: "ProbeDNSQueryFailed", defaultFor: "2m", defaultSeverity: "warning",
                  expr: { _ in "probe_dns_query_succeeded == 0" },
                  summary: "A DNS server does not answer.",
                  description: "{{ $labels.instance }} did not answer {{ $labels.job }}'s DNS query."),
            Alert(name: "ProbeDNSUnexpectedAnswer", defaultFor: "2m", defaultSeverity: "warning",
                  expr: { _ in "probe_success == 0 and on (job, instance) probe_dns_query_succeeded == 1" },
                  summary: "A DNS server answers, but not as expected.",
                  description: "{{ $labels.instance }} answered {{ $labels.job }}'s DNS query with an unexpected response code or records."),
            Alert(name: "ProbeCertificateExpiring", defaultFor: "10m", defaultSeverity: "warning",
                  expr: { "(probe_ssl_earliest_cert_expiry - time()) / 86400 < \($0.t("certificateDays"))" },
                  summary: "A TLS certificate expires soon.",
                  description: "The certificate {{ $labels.instance }} presents to {{ $labels.job }} expires in {{ $value | humanize }} days."),
            Alert(name: "ProbeHTTPStatusError", defaultFor: "2m", defaultSeverity: "warning",
                  expr: { "probe_http_status_code >= \($0.t("httpErrorStatus"))" },
                  summary: "A probed HTTP endpoint answers with an error status.",
                  description: "{{ $labels.instance }} answers {{ $labels.job }} with HTTP {{ $value }}."),
        ],
        recordings: [
            Recording(record: "job_instance:probe_success:avg_over_time5m", expr: { _ in "avg_over_time(probe_success[5m])" }),
            Recording(record: "job_instance:probe_duration_seconds:p95_over_time10m", expr: { _ in "quantile_over_time(0.95, probe_duration_seconds[10m])" }),
        ])

    static let netwatch = AlertPack(
        name: "netwatch",
        summary: "netwatch watching itself and its outputs: reloads, the reloader sidecar, generated scrape jobs, reconcile errors.",
        thresholds: [
            Threshold(key: "targetsDownRatio", defaultValue: 0.1, minimum: 0, maximum: 1, meaning: "share of a generated job's targets that are down"),
            Threshold(key: "reconcileErrorsPerSecond", defaultValue: 0, minimum: 0, meaning: "operator reconcile errors per second"),
        ],
        alerts: [
            Alert(name: "PrometheusConfigReloadFailed", defaultFor: "10m", defaultSeverity: "critical",
                  expr: { _ in "max_over_time(prometheus_config_last_reload_successful[5m]) == 0" },
                  summary: "Prometheus cannot load its configuration.",
                  description: "{{ $labels.instance }} has failed to reload its configuration for 10 minutes; it keeps running the previous one."),
            Alert(name: "NetwatchReloaderFailing", defaultFor: "10m", defaultSeverity: "warning",
                  expr: { _ in "max_over_time(netwatch_reloader_last_reload_successful[5m]) == 0" },
                  summary: "The netwatch reloader sidecar cannot reload its server.",
                  description: "The reloader {{ $labels.instance }} has failed to reload its server for 10 minutes."),
            Alert(name: "NetwatchTargetsDown", defaultFor: "10m", defaultSeverity: "warning",
                  expr: { "count by (namespace, job) (up{endpoint!=\"\"} == 0) / count by (namespace, job) (up{endpoint!=\"\"}) > \($0.t("targetsDownRatio"))" },
                  summary: "Targets of a generated scrape job are down.",
                  description: "{{ $value | humanizePercentage }} of the targets of job {{ $labels.job }} in {{ $labels.namespace }} are down."),
            Alert(name: "NetwatchReconcileErrors", defaultFor: "15m", defaultSeverity: "warning",
                  expr: { "rate(netwatch_reconcile_errors_total[5m]) > \($0.t("reconcileErrorsPerSecond"))" },
                  summary: "The netwatch operator keeps failing to reconcile.",
                  description: "{{ $labels.instance }} fails {{ $value | humanize }} reconciles per second; see its logs and the Events of its resources."),
        ],
        recordings: [])
}
