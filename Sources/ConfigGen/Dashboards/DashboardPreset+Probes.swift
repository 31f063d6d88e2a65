extension DashboardPreset {
    /// The job and instance filter every probe query carries.
    static let probeSelector = #"job=~"$job",instance=~"$instance""#

    /// Synthetic checks (NetworkProbes, prometheus-operator Probes), from blackbox_exporter's
    /// metrics: is each target reachable, how fast, how long its certificate lasts.
    static let probes = DashboardPreset(
        name: "probes", title: "Network / Probes",
        summary: "Synthetic checks by blackbox_exporter: success ratio and duration per target, a duration heatmap, DNS lookup time, HTTP phases, certificate days left and a table of failing targets.",
        thresholds: [
            .init(key: "latencySeconds", defaultValue: 1, minimum: 0, meaning: "probe duration drawn as a threshold line"),
            .init(key: "certificateDays", defaultValue: 14, minimum: 0, meaning: "certificate days left shown red below"),
        ],
        variables: [
            Variable(name: "job", label: "Probe", query: { _ in "label_values(probe_success, job)" }, multi: true),
            Variable(name: "instance", label: "Target", query: { _ in #"label_values(probe_success{job=~"$job"}, instance)"# }, multi: true),
        ],
        rows: [
            Row(title: "Reachability", panels: [
                Panel(title: "Targets up", kind: .stat, unit: "none", width: 6, queries: { _ in [
                    Query(expr: "sum(probe_success{\(probeSelector)})", legend: "up"),
                ] }),
                Panel(title: "Targets failing", kind: .stat, unit: "none", width: 6, queries: { _ in [
                    Query(expr: "count(probe_success{\(probeSelector)} == 0) or vector(0)", legend: "failing"),
                ] }),
                Panel(title: "Success ratio", kind: .timeseries, unit: "percentunit", width: 12, queries: { _ in [
                    Query(expr: "avg_over_time(probe_success{\(probeSelector)}[$__rate_interval])", legend: "{{job}} {{instance}}"),
                ] }, maximum: 1),
            ]),
            Row(title: "Latency", panels: [
                Panel(title: "Probe duration", kind: .timeseries, unit: "s", width: 12, queries: { _ in [
                    Query(expr: "probe_duration_seconds{\(probeSelector)}", legend: "{{job}} {{instance}}"),
                ] }, threshold: "latencySeconds"),
                Panel(title: "Probe duration heatmap", kind: .heatmap, unit: "s", width: 12, queries: { _ in [
                    Query(expr: "probe_duration_seconds{\(probeSelector)}", legend: "{{instance}}"),
                ] }),
                Panel(title: "DNS lookup time", kind: .timeseries, unit: "s", width: 12, queries: { _ in [
                    Query(expr: "probe_dns_lookup_time_seconds{\(probeSelector)}", legend: "{{job}} {{instance}}"),
                ] }),
                Panel(title: "HTTP phases", kind: .timeseries, unit: "s", width: 12, queries: { _ in [
                    Query(expr: "sum by (phase) (probe_http_duration_seconds{\(probeSelector)})", legend: "{{phase}}"),
                ] }, stacked: true),
                Panel(title: "ICMP round trip", kind: .timeseries, unit: "s", width: 12, queries: { _ in [
                    Query(expr: #"probe_icmp_duration_seconds{phase="rtt","# + probeSelector + "}", legend: "{{job}} {{instance}}"),
                ] }),
            ]),
            Row(title: "Certificates and failures", panels: [
                Panel(title: "Certificate days left", kind: .table, unit: "d", width: 12, queries: { _ in [
                    Query(expr: "(probe_ssl_earliest_cert_expiry{\(probeSelector)} - time()) / 86400", legend: ""),
                ] }, threshold: "certificateDays", table: true, renames: [("Value", "days left")], redBelow: true),
                Panel(title: "Failing targets", kind: .table, unit: "none", width: 12, queries: { _ in [
                    Query(expr: "probe_success{\(probeSelector)} == 0", legend: ""),
                ] }, table: true, renames: [("Value", "success")]),
            ]),
        ])
}
