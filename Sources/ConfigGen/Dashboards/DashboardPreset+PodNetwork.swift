extension DashboardPreset {
    /// A cAdvisor network counter per pod of the selected namespaces and workloads, without
    /// host-network pods (their counters are the node's), as a rate.
    static func podRate(_ metric: String) -> String {
        #"rate(\#(metric){namespace=~"$namespace",pod!=""}[$__rate_interval]) "# + AlertPack.notHostNetwork
    }

    /// The same, summed per workload through netwatch's own `netwatch_pod_workload` (or
    /// kube-state-metrics' owners for pods netwatch does not export).
    static func workloadRate(_ metric: String) -> String {
        #"sum by (workload) (sum by (namespace, pod) ("# + podRate(metric)
            + ") * on (namespace, pod) group_left (workload) " + AlertPack.podWorkload(matching: "$workload") + ")"
    }

    /// Per-pod traffic from the kubelet's cAdvisor, without injecting anything into pods.
    static let podNetwork = DashboardPreset(
        name: "pod-network", title: "Network / Pods",
        summary: "Per-pod and per-workload traffic from the kubelet's cAdvisor (container_network_*): bandwidth, packets, drops and errors; host-network pods left out, pods grouped into workloads by netwatch_pod_workload (or kube-state-metrics' kube_pod_owner where netwatch has no series).",
        thresholds: [
            .init(key: "dropsPerSecond", defaultValue: 1, minimum: 0, meaning: "drops per second drawn as a threshold line"),
            .init(key: "errorsPerSecond", defaultValue: 1, minimum: 0, meaning: "errors per second drawn as a threshold line"),
        ],
        variables: [
            Variable(name: "namespace", label: "Namespace", query: { _ in "label_values(container_network_receive_bytes_total, namespace)" }, multi: true),
            Variable(name: "workload", label: "Workload", query: { _ in #"label_values(netwatch_pod_workload{namespace=~"$namespace"}, workload)"# }, multi: true),
        ],
        rows: [
            Row(title: "Workloads", panels: [
                Panel(title: "Bandwidth per workload", kind: .timeseries, unit: "bps", width: 24, queries: { _ in [
                    Query(expr: workloadRate("container_network_receive_bytes_total") + " * 8", legend: "{{workload}} in"),
                    Query(expr: workloadRate("container_network_transmit_bytes_total") + " * 8", legend: "{{workload}} out"),
                ] }, mirrorOut: true),
            ]),
            Row(title: "Pods", panels: [
                Panel(title: "Bandwidth per pod", kind: .timeseries, unit: "bps", width: 12, queries: { _ in [
                    Query(expr: "sum by (pod) (\(podRate("container_network_receive_bytes_total"))) * 8", legend: "{{pod}} in"),
                    Query(expr: "sum by (pod) (\(podRate("container_network_transmit_bytes_total"))) * 8", legend: "{{pod}} out"),
                ] }, mirrorOut: true),
                Panel(title: "Packets per pod", kind: .timeseries, unit: "pps", width: 12, queries: { _ in [
                    Query(expr: "sum by (pod) (\(podRate("container_network_receive_packets_total")))", legend: "{{pod}} in"),
                    Query(expr: "sum by (pod) (\(podRate("container_network_transmit_packets_total")))", legend: "{{pod}} out"),
                ] }, mirrorOut: true),
                Panel(title: "Drops per pod", kind: .timeseries, unit: "pps", width: 12, queries: { _ in [
                    Query(expr: "sum by (pod) (\(podRate("container_network_receive_packets_dropped_total")))", legend: "{{pod}} in"),
                    Query(expr: "sum by (pod) (\(podRate("container_network_transmit_packets_dropped_total")))", legend: "{{pod}} out"),
                ] }, threshold: "dropsPerSecond"),
                Panel(title: "Errors per pod", kind: .timeseries, unit: "pps", width: 12, queries: { _ in [
                    Query(expr: "sum by (pod) (\(podRate("container_network_receive_errors_total")))", legend: "{{pod}} in"),
                    Query(expr: "sum by (pod) (\(podRate("container_network_transmit_errors_total")))", legend: "{{pod}} out"),
                ] }, threshold: "errorsPerSecond"),
            ]),
        ])
}
