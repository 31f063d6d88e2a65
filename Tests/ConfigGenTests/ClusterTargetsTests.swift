import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
import Testing
import YAML

/// A stack's clusterTargets: the kubelet, cAdvisor, API server and CoreDNS jobs with the
/// in-cluster credentials they need, under Kubernetes discovery; a warning under static.
@Suite("Cluster targets")
struct ClusterTargetsTests {
    static func jobs(discovery: PrometheusSettings.Discovery) throws -> (jobs: [String: Node], diagnostics: [Diagnostic]) {
        var stack = MonitoringStack(metadata: ObjectMeta(name: "s", namespace: "mon"),
                                    spec: MonitoringStackSpec(prometheus: PrometheusSettings(discovery: discovery, output: .directory("/x")), monitorSelector: LabelSelector()))
        stack.spec.clusterTargets = ClusterTargets(kubelet: true, cadvisor: true, apiServer: true, coreDNS: true)
        let result = render(Snapshot(monitoringStacks: [stack]))
        let config = try #require(result.artifacts.first { $0.role == .prometheusConfig })
        let tree = try #require(try YAMLParser().parse(config.bytes, file: "prometheus.yml").first?.node)
        var jobs: [String: Node] = [:]
        for job in tree["scrape_configs"]?.sequence ?? [] { jobs[job["job_name"]?.string ?? ""] = job }
        return (jobs, result.diagnostics)
    }

    @Test("kubelet and cAdvisor over HTTPS per node with the service account's CA and token; the API server's https endpoints; CoreDNS's metrics port")
    func kubernetesDiscovery() throws {
        let (jobs, diagnostics) = try Self.jobs(discovery: .kubernetes)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let kubelet = try #require(jobs["netwatch/cluster/kubelet"])
        #expect(kubelet["scheme"] == "https" && kubelet["kubernetes_sd_configs"]?.sequence?.first?["role"] == "node")
        #expect(kubelet["tls_config"]?["ca_file"] == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
        #expect(kubelet["authorization"]?["credentials_file"] == "/var/run/secrets/kubernetes.io/serviceaccount/token")
        let cadvisor = try #require(jobs["netwatch/cluster/cadvisor"])
        #expect(cadvisor["metrics_path"] == "/metrics/cadvisor" && cadvisor["honor_timestamps"] == false)
        let apiServer = try #require(jobs["netwatch/cluster/apiserver"])
        #expect(apiServer["tls_config"]?["server_name"] == "kubernetes")
        #expect(apiServer["relabel_configs"]?.sequence?.first?["regex"] == "kubernetes;https")
        let coreDNS = try #require(jobs["netwatch/cluster/coredns"])
        #expect(coreDNS["scheme"] == "http" && coreDNS["authorization"] == nil)
        #expect(coreDNS["kubernetes_sd_configs"]?.sequence?.first?["namespaces"]?["names"] == ["kube-system"])
        for (name, job) in jobs where name.hasPrefix("netwatch/cluster/") {
            let component = String(name.dropFirst("netwatch/cluster/".count))
            #expect(job["relabel_configs"]?.sequence?.contains { $0["target_label"] == "job" && $0["replacement"] == .string(component) } == true, "\(name)")
        }
    }

    @Test("under static discovery the cluster targets are left out with a warning naming the field")
    func staticDiscovery() throws {
        let (jobs, diagnostics) = try Self.jobs(discovery: .static)
        #expect(!jobs.keys.contains { $0.hasPrefix("netwatch/cluster/") })
        #expect(diagnostics.map { "\($0.severity.rawValue) \($0.field ?? "")" } == ["warning spec.clusterTargets"])
    }
}
