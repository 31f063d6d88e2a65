import DataTree
import KubeModel
import NetWatchAPI

/// How a stack's dashboards reach Grafana (`grafana.delivery`): always as JSON files
/// `<ns>/<stack>/grafana/<uid>.json` (file provisioning, GitOps review), plus one ConfigMap per
/// dashboard labelled `grafana_dashboard: "1"` with the folder annotations the Grafana sidecar
/// reads (kube-prometheus-stack), or one grafana-operator `GrafanaDashboard` per dashboard.
struct DashboardDelivery {
    let stack: MonitoringStack
    let base: String
    /// Recording rules defined by the stack's rule files.
    let recordings: Set<String>

    /// The ConfigMap data limit, with room for metadata.
    static let objectBudget = 1_048_576 - 8_192

    func artifacts(_ dashboards: [NetworkDashboard], reported: inout Set<String>) -> ([Artifact], [Diagnostic]) {
        var artifacts: [Artifact] = []
        var diagnostics: [Diagnostic] = []
        let grafana = stack.spec.grafana
        for object in dashboards {
            let (rendered, problems) = DashboardGenerator.dashboard(for: object, datasourceUID: grafana.datasourceUID, recordings: recordings)
            if reported.insert("\(object.namespace)/\(object.name)").inserted { diagnostics += problems }
            guard let rendered else { continue }
            artifacts.append(Artifact(path: "\(base)/grafana/\(rendered.uid).json", bytes: rendered.json, role: .dashboard))
            guard grafana.delivery != .directory else { continue }
            if rendered.json.count > Self.objectBudget {
                diagnostics.append(Diagnostic(.error, object: ObjectReference(kind: "NetworkDashboard", namespace: object.namespace, name: object.name),
                    source: object.source, field: "spec.panels",
                    message: "the dashboard is \(rendered.json.count) bytes, too large for one Kubernetes object (1 MiB); it is only written as a file. Split it into two NetworkDashboards"))
                continue
            }
            let json = String(decoding: rendered.json.dropLast(), as: UTF8.self)  // without the trailing newline
            var annotations = Mapping()
            var labels: [String: String] = ["app.kubernetes.io/managed-by": "netwatch", "netwatch.dev/stack": stack.name]
            let node: Node
            let file: String
            switch grafana.delivery {
            case .configMap:
                labels["grafana_dashboard"] = "1"
                if let folder = rendered.folder {
                    annotations["grafana_folder"] = .string(folder)
                    annotations["k8s-sidecar-target-directory"] = .string(folder)
                }
                var metadata = Mapping([("name", .string("\(stack.name)-dashboard-\(rendered.uid)")), ("namespace", .string(stack.namespace)), ("labels", .sortedStringMap(labels))])
                if !annotations.isEmpty { metadata["annotations"] = .mapping(annotations) }
                node = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .mapping(metadata), "data": .mapping(Mapping([("\(rendered.uid).json", .string(json))]))]
                file = "configmap-\(stack.name)-dashboard-\(rendered.uid).yaml"
            case .grafanaOperator, .directory:
                var spec = Mapping()
                spec["instanceSelector"] = ["matchLabels": ["dashboards": "grafana"]]
                if let folder = rendered.folder { spec["folder"] = .string(folder) }
                spec["uid"] = .string(rendered.uid)
                spec["resyncPeriod"] = "10m"
                spec["json"] = .string(json)
                node = ["apiVersion": "grafana.integreatly.org/v1beta1", "kind": "GrafanaDashboard",
                        "metadata": ["name": .string("\(stack.name)-\(rendered.uid)"), "namespace": .string(stack.namespace), "labels": .sortedStringMap(labels)],
                        "spec": .mapping(spec)]
                file = "grafanadashboard-\(stack.name)-\(rendered.uid).yaml"
            }
            artifacts.append(Artifact(path: "\(base)/kubernetes/\(file)", object: node, role: .kubernetesManifest))
        }
        return (artifacts, diagnostics)
    }
}
