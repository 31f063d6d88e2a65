import BenchmarkSupport
import ConfigGen
import DataTree
import Foundation
import KubeModel

/// Issue 6's benchmark: 1,000 NetworkDashboard objects (presets node-network, sockets and mesh
/// in turn, each with tuned thresholds and two custom panels) decoded, checked and rendered into
/// dashboard JSON plus their sidecar ConfigMaps: ≤ 500 ms. `make bench` runs it in release mode.

let presets = ["node-network", "sockets", "mesh"]
func dashboard(_ index: Int) -> Node {
    [
        "apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkDashboard",
        "metadata": ["name": .string("dashboard-\(index)"), "namespace": .string("team-\(index % 100)"), "labels": ["netwatch.dev/stack": "main"]],
        "spec": [
            "preset": .string(presets[index % presets.count]), "folder": .string("Team \(index % 100)"),
            "panels": [
                ["title": "Requests", "expr": .string(#"sum(rate(http_requests_total{namespace="team-\#(index % 100)"}[$__rate_interval]))"#), "unit": "reqps"],
                ["title": "Errors", "expr": .string(#"sum(rate(http_requests_total{namespace="team-\#(index % 100)",code=~"5.."}[$__rate_interval]))"#), "unit": "reqps", "type": "stat"],
            ],
        ],
    ]
}

var objects: [Node] = [[
    "apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack", "metadata": ["name": "main", "namespace": "monitoring"],
    "spec": ["prometheus": ["output": ["directory": "/etc/prometheus"]], "monitorSelector": [:], "monitorNamespaceSelector": ["any": true],
             "dashboardSelector": [:], "grafana": ["delivery": "configMap"]],
]]
objects += (0..<1000).map(dashboard)
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
    let files = result.artifacts.filter { $0.role == .dashboard }
    summary = "\(files.count) dashboards, \(files.reduce(0) { $0 + $1.bytes.count }) bytes of JSON, \(result.artifacts.count - files.count - 1) other artifacts"
}
let sorted = timings.sorted()
print("dashboards: \(summary); presets node-network/sockets/mesh + 2 custom panels each, delivered as sidecar ConfigMaps")
print(String(format: "decode + check + render wall ms: min %.1f median %.1f max %.1f (7 runs; target <= 500 ms)", sorted.first!, sorted[sorted.count / 2], sorted.last!))
BenchmarkReport.record("decode + check + render median", sorted[sorted.count / 2], unit: "ms", better: .lower, target: 500)
