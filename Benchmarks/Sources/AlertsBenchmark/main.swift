import BenchmarkSupport
import ConfigGen
import DataTree
import Foundation
import KubeModel

/// Issue 5's benchmark: 500 NetworkAlerts objects with 20 custom rules each (plus one built-in
/// pack each), decoded — schema, structure, every expression through the PromQL parser — and
/// rendered into rule files: ≤ 200 ms. `make bench` runs it in release mode.

let templates: [(String, String)] = [
    ("record", #"sum by (job) (rate(http_requests_total{namespace="NS"}[5m]))"#),
    ("alert", #"sum by (job) (rate(http_requests_total{namespace="NS",code=~"5.."}[5m])) / sum by (job) (rate(http_requests_total{namespace="NS"}[5m])) > 0.05"#),
    ("alert", #"histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket{namespace="NS"}[5m]))) > 0.5"#),
    ("record", #"avg without (instance) (rate(node_cpu_seconds_total{mode!="idle",namespace="NS"}[5m]))"#),
    ("alert", #"up{namespace="NS"} == 0"#),
    ("alert", #"predict_linear(node_filesystem_avail_bytes{namespace="NS"}[6h], 4 * 3600) < 0"#),
    ("record", #"label_replace(sum by (pod) (container_memory_working_set_bytes{namespace="NS"}), "workload", "$1", "pod", "(.*)-[^-]+")"#),
    ("alert", #"increase(kube_pod_container_status_restarts_total{namespace="NS"}[1h]) > 3"#),
    ("alert", #"max_over_time(rate(errors_total{namespace="NS"}[5m])[1h:5m]) * on (job) group_left (team) team_info > 10"#),
    ("alert", #"absent(up{namespace="NS",job="api"}) == 1 or count by (job) (up{namespace="NS"} == 0) > 2"#),
]

func alertsObject(_ index: Int) -> Node {
    let namespace = "ns-\(index)"
    var rules: [Node] = []
    for rule in 0..<20 {
        let (kind, template) = templates[rule % templates.count]
        let expr = template.replacingOccurrences(of: "NS", with: namespace)
        if kind == "record" {
            rules.append(["record": .string("ns:rule_\(rule):rate5m"), "expr": .string(expr)])
        } else {
            rules.append(["alert": .string("Rule\(rule)"), "expr": .string(expr), "for": "5m", "labels": ["severity": "warning"],
                          "annotations": ["summary": .string("rule \(rule) in \(namespace)"), "description": "{{ $labels.job }} at {{ $value | humanize }}"]])
        }
    }
    return [
        "apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkAlerts",
        "metadata": ["name": .string("alerts-\(index)"), "namespace": .string(namespace), "labels": ["netwatch.dev/stack": "main"]],
        "spec": ["packs": [["name": "tcp"]], "groups": [["name": .string("custom-\(index)"), "rules": .sequence(rules)]]],
    ]
}

var objects: [Node] = [[
    "apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack", "metadata": ["name": "main", "namespace": "monitoring"],
    "spec": ["prometheus": ["output": ["directory": "/etc/prometheus"]], "monitorSelector": [:], "monitorNamespaceSelector": ["any": true], "alertSelector": [:]],
]]
objects += (0..<500).map(alertsObject)
let raw = objects.flatMap { ObjectReader.rawObjects(from: $0, source: nil).0 }

let clock = ContinuousClock()
var timings: [Double] = []
var summary = ""
for _ in 0..<7 {
    let started = clock.now
    let (snapshot, problems) = Snapshot.decode(raw)
    let result = render(snapshot)
    let elapsed = clock.now - started
    timings.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
    if !problems.isEmpty || !result.diagnostics.isEmpty {
        print("unexpected diagnostics:", (problems + result.diagnostics).prefix(3).map(\.description))
        exit(1)
    }
    let files = result.artifacts.filter { $0.role == .ruleFile }
    summary = "\(snapshot.networkAlerts.count) NetworkAlerts, \(files.count) rule files, \(files.reduce(0) { $0 + $1.bytes.count }) bytes"
}
let sorted = timings.sorted()
print("alerts: \(summary); 20 custom rules + the tcp pack each, every expression PromQL-checked")
print(String(format: "decode + validate + render wall ms: min %.1f median %.1f max %.1f (7 runs; target <= 200 ms)", sorted.first!, sorted[sorted.count / 2], sorted.last!))
BenchmarkReport.record("decode + validate + render median", sorted[sorted.count / 2], unit: "ms", better: .lower, target: 200)
