import ConfigGen
import Foundation
import KubeModel
import NetWatchAPI
import Testing

/// The default device exclusion, checked by Prometheus itself: the node-network pack rendered
/// with default knobs, and a promtool unit test feeding receive drops on every example device
/// of every CNI family plus physical, bond, VLAN, InfiniBand and wireless ones — the alert must
/// fire for exactly the kept devices.
@Suite("CNI-aware default device exclusion")
struct NetworkDeviceDefaultsTests {
    @Test("every CNI family's devices are left out of node alerts by default; physical, bond, VLAN, InfiniBand and wireless devices are kept")
    func defaultsExcludeCNIDevices() throws {
        let stack = MonitoringStack(metadata: ObjectMeta(name: "s", namespace: "mon"),
                                    spec: { var spec = MonitoringStackSpec(prometheus: PrometheusSettings(output: .directory("/etc/prometheus"))); spec.alertSelector = LabelSelector(); return spec }())
        var snapshot = Snapshot(monitoringStacks: [stack])
        snapshot.networkAlerts = [NetworkAlerts(metadata: ObjectMeta(name: "net", namespace: "mon"), spec: NetworkAlertsSpec(packs: [.init(name: "node-network")]))]
        let result = render(snapshot)
        let rules = try #require(result.artifacts.first { $0.role == .ruleFile })
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-devices-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try Data(rules.bytes).write(to: work.appendingPathComponent("rules.yml"))

        let excluded = NetworkDevices.excludedFamilies.flatMap(\.examples)
        let devices = excluded + NetworkDevices.keptExamples
        #expect(Set(devices).count == devices.count, "an example is listed twice")
        let series = devices.map { "      - {series: 'node_network_receive_drop_total{instance=\"n1\",device=\"\($0)\"}', values: '0+660x20'}" }
        // ALERTS carries the firing alerts' labels; the annotations are the pack tests' business.
        let expected = NetworkDevices.keptExamples.sorted().map {
            "          - {labels: 'ALERTS{alertname=\"NodeNetworkReceiveDrops\",alertstate=\"firing\",severity=\"warning\",pack=\"node-network\",instance=\"n1\",device=\"\($0)\"}', value: 1}"
        }
        let test = """
            rule_files: [rules.yml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
            \(series.joined(separator: "\n"))
                promql_expr_test:
                  - expr: 'ALERTS{alertname="NodeNetworkReceiveDrops",alertstate="firing"}'
                    eval_time: 10m
                    exp_samples:
            \(expected.joined(separator: "\n"))
            """
        try test.write(to: work.appendingPathComponent("devices_test.yml"), atomically: true, encoding: .utf8)
        let (status, output) = try promtoolTestRules("devices_test.yml", in: work)
        #expect(status == 0, "\(output)")
    }
}
