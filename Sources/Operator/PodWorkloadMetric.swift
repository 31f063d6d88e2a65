import KubeModel
import Prometheus
import Synchronization

/// `netwatch_pod_workload{namespace,pod,workload,workload_kind,host_network} 1` for every pod in a namespace
/// some stack's pod jobs look at, so dashboards and alerts can group pods into the workloads
/// that own them by a join, without kube-state-metrics, and leave out host-network pods, whose
/// cAdvisor network counters are the node's (the pod-network pack does). One series per such pod.
///
/// The workload is the pod's controller owner, with a ReplicaSet read as the Deployment that
/// made it (the Deployment controller names it `<deployment>-<pod-template-hash>` and labels
/// its pods with that hash); a pod without an owner is its own workload (`Pod`).
final class PodWorkloadMetric: Sendable {
    static let name = "pod_workload"

    private struct Key: Hashable {
        var namespace: String
        var pod: String
        var workload: String
        var kind: String
        var hostNetwork: Bool
    }

    private let registry: PrometheusCollectorRegistry
    private let series = Mutex<[Key: Gauge]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The owning workload of a pod: (kind, name).
    static func workload(of pod: Pod) -> (kind: String, name: String) {
        guard let owner = pod.metadata.ownerReferences.first(where: { $0.controller == true }) ?? pod.metadata.ownerReferences.first else {
            return ("Pod", pod.metadata.name)
        }
        if owner.kind == "ReplicaSet", let hash = pod.metadata.labels["pod-template-hash"], owner.name.hasSuffix("-" + hash) {
            return ("Deployment", String(owner.name.dropLast(hash.count + 1)))
        }
        return (owner.kind, owner.name)
    }

    /// Makes the series those of `pods` in `namespaces` (nil: every namespace); series of pods
    /// gone or out of scope are removed.
    func update(_ pods: [Pod], namespaces: Set<String>?) {
        var wanted: Set<Key> = []
        for pod in pods {
            let namespace = pod.metadata.namespace ?? "default"
            guard namespaces?.contains(namespace) ?? true else { continue }
            let (kind, name) = Self.workload(of: pod)
            wanted.insert(Key(namespace: namespace, pod: pod.metadata.name, workload: name, kind: kind, hostNetwork: pod.spec.hostNetwork))
        }
        series.withLock { series in
            for (key, gauge) in series where !wanted.contains(key) {
                registry.unregisterGauge(gauge)
                series[key] = nil
            }
            for key in wanted where series[key] == nil {
                let gauge = registry.makeGauge(
                    descriptor: OperatorMetrics.name(Self.name, "1 for each pod in a namespace netwatch's stacks scrape, naming the workload that owns it."),
                    labels: [("namespace", key.namespace), ("pod", key.pod), ("workload", key.workload), ("workload_kind", key.kind),
                             ("host_network", key.hostNetwork ? "true" : "false")])
                gauge.set(to: 1)
                series[key] = gauge
            }
        }
    }
}
