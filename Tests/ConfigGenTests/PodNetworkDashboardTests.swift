import ConfigGen
import Foundation
import KubeModel
import NetWatchAPI
import Testing

/// The pod-network preset's queries evaluated by Prometheus itself (promtool's PromQL unit
/// tests) over cAdvisor-shaped series: a Deployment's pod, and a host-network pod whose
/// counters are the node's. Each query must give the Deployment pod's rate — per pod or per
/// workload — and nothing for the host-network pod.
@Suite("pod-network dashboard queries")
struct PodNetworkDashboardTests {
    /// Per-second rates of the series fed in, by cAdvisor metric.
    static let rates: [String: Double] = [
        "container_network_receive_bytes_total": 100, "container_network_transmit_bytes_total": 50,
        "container_network_receive_packets_total": 10, "container_network_transmit_packets_total": 5,
        "container_network_receive_packets_dropped_total": 2, "container_network_transmit_packets_dropped_total": 1,
        "container_network_receive_errors_total": 3, "container_network_transmit_errors_total": 4,
    ]

    @Test("every query gives the Deployment pod's traffic, per pod or per workload, and leaves the host-network pod out")
    func queriesAgainstPrometheus() throws {
        var stack = MonitoringStack(metadata: ObjectMeta(name: "s", namespace: "mon"), spec: MonitoringStackSpec(prometheus: PrometheusSettings(output: .directory("/x"))))
        stack.spec.dashboardSelector = LabelSelector()
        var snapshot = Snapshot(monitoringStacks: [stack])
        snapshot.networkDashboards = [NetworkDashboard(metadata: ObjectMeta(name: "pods", namespace: "mon"), spec: NetworkDashboardSpec(preset: "pod-network"))]
        let file = try #require(render(snapshot).artifacts.first { $0.role == .dashboard })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(file.bytes)) as? [String: Any])

        var series: [String] = []
        for (metric, rate) in Self.rates.sorted(by: { $0.key < $1.key }) {
            series.append("      - {series: '\(metric){namespace=\"shop\",pod=\"web-1\",interface=\"eth0\"}', values: '0+\(Int(rate * 60))x30'}")
            series.append("      - {series: '\(metric){namespace=\"kube-system\",pod=\"agent\",interface=\"eth0\"}', values: '0+\(Int(rate * 6000))x30'}")
        }
        series.append("      - {series: 'netwatch_pod_workload{namespace=\"shop\",pod=\"web-1\",workload=\"web\",workload_kind=\"Deployment\",host_network=\"false\"}', values: '1x30'}")
        series.append("      - {series: 'netwatch_pod_workload{namespace=\"kube-system\",pod=\"agent\",workload=\"agent\",workload_kind=\"DaemonSet\",host_network=\"true\"}', values: '1x30'}")

        var tests: [String] = []
        var count = 0
        for panel in (json["panels"] as? [[String: Any]]) ?? [] where panel["type"] as? String != "row" {
            for target in (panel["targets"] as? [[String: Any]]) ?? [] {
                var expr = try #require(target["expr"] as? String)
                for (variable, value) in [("$__rate_interval", "5m"), ("$namespace", ".*"), ("$workload", ".*")] { expr = expr.replacingOccurrences(of: variable, with: value) }
                let metric = try #require(Self.rates.keys.first { expr.contains($0) }, "\(expr)")
                let value = Self.rates[metric]! * (expr.hasSuffix("* 8") ? 8 : 1)
                let labels = expr.hasPrefix("sum by (workload)") ? "{workload=\"web\"}" : "{pod=\"web-1\"}"
                let quoted = expr.replacingOccurrences(of: "'", with: "''")
                tests.append("      - expr: '\(quoted)'\n        eval_time: 20m\n        exp_samples: [{labels: '\(labels)', value: \(value)}]")
                count += 1
            }
        }
        #expect(count == 10, "every panel query of the preset")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-pod-dashboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try "groups: []\n".write(to: work.appendingPathComponent("empty.yml"), atomically: true, encoding: .utf8)
        try """
            rule_files: [empty.yml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
            \(series.joined(separator: "\n"))
                promql_expr_test:
            \(tests.joined(separator: "\n"))
            """.write(to: work.appendingPathComponent("dashboard_test.yml"), atomically: true, encoding: .utf8)
        let (status, output) = try promtoolTestRules("dashboard_test.yml", in: work)
        #expect(status == 0, "\(output)")
    }
}
