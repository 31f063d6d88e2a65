import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
import RenderIO
import Testing
import YAML

@Suite("Built-in rule packs")
struct RulePackTests {
    @Test("every built-in alert has a promtool unit test that fires and one that does not, and a runbook")
    func everyAlertIsTestedAndDocumented() throws {
        let tests = try String(contentsOf: repositoryRoot.appendingPathComponent("Tests/RuleTests/packs_test.yml"), encoding: .utf8)
        let lines = tests.split(separator: "\n").map(String.init)
        for (pack, _, alerts) in BuiltInRulePacks.packs {
            for alert in alerts {
                let quiet = lines.contains { $0.contains("alertname: \(alert),") && $0.contains("exp_alerts: []") }
                let firing = lines.indices.contains { index in
                    lines[index].hasSuffix("alertname: \(alert)") && index + 1 < lines.count && lines[index + 1].contains("exp_alerts:") && !lines[index + 1].contains("[]")
                }
                #expect(quiet && firing, "\(pack)/\(alert): Tests/RuleTests/packs_test.yml needs a firing and a quiet case")
                let runbook = repositoryRoot.appendingPathComponent("docs/runbooks/\(alert).md").path
                #expect(FileManager.default.fileExists(atPath: runbook), "\(alert) has no runbook at docs/runbooks/\(alert).md")
            }
        }
    }

    @Test("docs/alerts.md lists every pack, threshold and alert as the catalog defines them")
    func alertsDocumentIsCurrent() throws {
        let url = repositoryRoot.appendingPathComponent("docs/alerts.md")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try BuiltInRulePacks.markdown().write(to: url, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == BuiltInRulePacks.markdown(), "run `make golden` after changing the catalog")
    }

    static func alerts(_ packs: String, groups: String = "[]") throws -> (RenderResult, [Diagnostic]) {
        let yaml = """
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: s, namespace: mon}
            spec: {prometheus: {output: {directory: /etc/prometheus}}, monitorSelector: {}, alertSelector: {}}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkAlerts
            metadata: {name: a, namespace: mon}
            spec: {packs: \(packs), groups: \(groups)}
            """
        let objects = try YAMLParser().parse(yaml, file: "alerts.yaml").flatMap {
            ObjectReader.rawObjects(from: $0.node, source: SourceLocation(file: "alerts.yaml", line: $0.line)).0
        }
        let (snapshot, problems) = Snapshot.decode(objects)
        return (render(snapshot), problems)
    }

    @Test("a bad knob skips its pack alone with a diagnostic naming the field; the other packs render")
    func badPackIsSkippedAlone() throws {
        let (result, _) = try Self.alerts("""
            [{name: tcp, thresholds: {retransmitsPerSecond: -1}}, {name: sockets}, {name: nope},
             {name: conntrack, thresholds: {conntrackUsageRatio: 1.5}}, {name: mesh, thresholds: {latency: 3}},
             {name: node-network, for: {NodeNetworkReceiveDrops: 5 minutes}}, {name: netwatch, severity: {NetwatchTargetsDown: page}}]
            """)
        let messages = result.diagnostics.map { "\($0.field ?? ""): \($0.message)" }
        #expect(messages.contains { $0.hasPrefix("spec.packs[0].thresholds.retransmitsPerSecond: -1 is out of range") })
        #expect(messages.contains { $0.hasPrefix("spec.packs[2].name: \"nope\" is not a pack") })
        #expect(messages.contains { $0.hasPrefix("spec.packs[3].thresholds.conntrackUsageRatio: 1.5 is out of range") && $0.contains("0 to 1") })
        #expect(messages.contains { $0.hasPrefix("spec.packs[4].thresholds.latency: mesh has no threshold \"latency\"") })
        #expect(messages.contains { $0.hasPrefix("spec.packs[5].for.NodeNetworkReceiveDrops:") })
        #expect(messages.contains { $0.hasPrefix("spec.packs[6].severity.NetwatchTargetsDown: \"page\" is not a severity") })
        let rules = try #require(result.artifacts.first { $0.path == "mon/s/prometheus/rules/mon_a.yml" })
        let text = String(decoding: rules.bytes, as: UTF8.self)
        #expect(text.contains("name: netwatch-sockets"))
        #expect(!text.contains("netwatch-tcp") && !text.contains("netwatch-conntrack") && !text.contains("netwatch-mesh"))
        let config = try #require(result.artifacts.first { $0.path == "mon/s/prometheus/prometheus.yml" })
        #expect(String(decoding: config.bytes, as: UTF8.self).contains("rule_files:\n- rules/mon_a.yml"))
    }

    @Test("every generated pack expression passes netwatch's PromQL parser")
    func packExpressionsParse() throws {
        let (result, _) = try Self.alerts("[{name: node-network}, {name: tcp}, {name: sockets}, {name: conntrack}, {name: mesh}, {name: netwatch}]")
        let file = try #require(result.artifacts.first { $0.path == "mon/s/prometheus/rules/mon_a.yml" })
        let document = try #require(try YAMLParser().parse(file.bytes, file: file.path).first?.node)
        var count = 0
        for group in document["groups"]?.sequence ?? [] {
            for rule in group["rules"]?.sequence ?? [] {
                let expr = try #require(rule["expr"]?.string)
                #expect(PromQL.check(expr) == nil, "\(expr)")
                count += 1
            }
        }
        #expect(count == 41)
    }

    @Test("knobs change the rules: thresholds, for, severity, disabled alerts, device exclusion")
    func knobsApply() throws {
        let (result, _) = try Self.alerts("""
            [{name: node-network, excludeDevices: "lo|eth9", thresholds: {receiveDropsPerSecond: 2.5},
              for: {NodeNetworkReceiveDrops: 7m}, severity: {NodeNetworkReceiveDrops: critical}, disabled: [NodeBondingDegraded]}]
            """)
        let text = String(decoding: try #require(result.artifacts.first { $0.path == "mon/s/prometheus/rules/mon_a.yml" }).bytes, as: UTF8.self)
        #expect(text.contains(#"rate(node_network_receive_drop_total{device!~"lo|eth9"}[5m]) > 2.5"#))
        #expect(text.contains("for: 7m"))
        #expect(text.contains("severity: critical"))
        #expect(!text.contains("NodeBondingDegraded"))
        #expect(result.diagnostics.isEmpty)
    }

    @Test("custom groups: a group named like a pack's is skipped with a diagnostic; invalid rules reject the object")
    func customGroups() throws {
        let (clash, _) = try Self.alerts("[{name: tcp}]", groups: "[{name: netwatch-tcp, rules: [{alert: X, expr: up == 0}]}]")
        #expect(clash.diagnostics.contains { $0.field == "spec.groups[0].name" && $0.message.contains("already in this object's rule file") })
        let (_, problems) = try Self.alerts("[]", groups: """
            [{name: g, rules: [{expr: up}, {record: "bad name", expr: up}, {alert: A, expr: up, annotations: {summary: "{{ $value"}}]},
             {name: g, rules: [{alert: B, expr: up}]}]
            """)
        let messages = problems.map { "\($0.field ?? ""): \($0.message)" }
        #expect(messages.contains { $0.hasPrefix("spec.groups[0].rules[0]: set alert") })
        #expect(messages.contains { $0.hasPrefix("spec.groups[0].rules[1].record: \"bad name\" is not a valid metric name") })
        #expect(messages.contains { $0.hasPrefix("spec.groups[0].rules[2].annotations.summary: a template action") })
        #expect(messages.contains { $0.hasPrefix("spec.groups[1].name: \"g\" is also the name of spec.groups[0]") })
        let (_, promql) = try Self.alerts("[]", groups: #"[{name: g, rules: [{alert: Bad, expr: "sum(rate(x[5m])"}, {alert: Good, expr: "up == 0"}]}]"#)
        #expect(promql.map { "\($0.field ?? ""): \($0.message)" } == ["spec.groups[0].rules[0].expr: rule Bad: unexpected end of input, expected \")\" (at byte 15)"])
    }
}
