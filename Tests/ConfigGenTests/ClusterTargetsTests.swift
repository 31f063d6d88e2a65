import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
import Testing
import YAML

/// A stack's clusterTargets: the kubelet, cAdvisor, API server and CoreDNS jobs with the
/// in-cluster credentials they need, under both discovery modes. Their agreement with
/// Prometheus's own discovery is checked by hack/check-sd-fidelity.
@Suite("Cluster targets")
struct ClusterTargetsTests {
    /// Two nodes (one without an InternalIP, one without any address), the API server's Service
    /// and EndpointSlice, and a CoreDNS pod.
    static let cluster = """
        apiVersion: v1
        kind: Node
        metadata: {name: node-a, labels: {kubernetes.io/os: linux, node-role.kubernetes.io/control-plane: ""}}
        spec: {providerID: "aws:///eu-west-1a/i-0abc"}
        status:
          addresses: [{type: Hostname, address: node-a}, {type: InternalIP, address: 10.0.0.1}, {type: InternalIP, address: 10.0.0.11}]
          conditions: [{type: Ready, status: "True"}, {type: MemoryPressure, status: "False"}]
          daemonEndpoints: {kubeletEndpoint: {Port: 10250}}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: node-b}
        status:
          addresses: [{type: Hostname, address: node-b.internal}, {type: ExternalIP, address: 203.0.113.7}]
          daemonEndpoints: {kubeletEndpoint: {Port: 10250}}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: node-c}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: kubernetes, namespace: default, labels: {component: apiserver, provider: kubernetes}}
        spec: {ports: [{name: https, port: 443, targetPort: 6443}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: kubernetes, namespace: default, labels: {kubernetes.io/service-name: kubernetes}}
        addressType: IPv4
        endpoints: [{addresses: [10.0.0.100], conditions: {ready: true}}]
        ports: [{name: https, port: 6443, protocol: TCP}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: coredns-1, namespace: kube-system, labels: {k8s-app: kube-dns}}
        spec: {containers: [{name: coredns, ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: metrics, containerPort: 9153}]}]}
        status: {phase: Running, podIP: 10.1.0.5}
        """

    static func render(discovery: String) throws -> RenderResult {
        let text = """
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: s, namespace: mon}
            spec:
              prometheus: {discovery: \(discovery), output: {directory: /x}}
              clusterTargets: {kubelet: true, cadvisor: true, apiServer: true, coreDNS: true}
            ---
            \(cluster)
            """
        let documents = try YAMLParser().parse(text, file: "t.yaml")
        let (snapshot, problems) = Snapshot.decode(documents.flatMap { ObjectReader.rawObjects(from: $0.node, source: nil).0 })
        #expect(problems.isEmpty, "\(problems)")
        return ConfigGen.render(snapshot)
    }

    static func jobs(_ result: RenderResult) throws -> [String: Node] {
        let config = try #require(result.artifacts.first { $0.role == .prometheusConfig })
        let tree = try #require(try YAMLParser().parse(config.bytes, file: "prometheus.yml").first?.node)
        var jobs: [String: Node] = [:]
        for job in tree["scrape_configs"]?.sequence ?? [] { jobs[job["job_name"]?.string ?? ""] = job }
        return jobs
    }

    @Test("kubelet and cAdvisor over HTTPS per node with the service account's CA and token; the API server's https endpoints; CoreDNS's metrics port")
    func kubernetesDiscovery() throws {
        let result = try Self.render(discovery: "kubernetes")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let jobs = try Self.jobs(result)
        let kubelet = try #require(jobs["netwatch/cluster/kubelet"])
        #expect(kubelet["scheme"] == "https" && kubelet["kubernetes_sd_configs"]?.sequence?.first?["role"] == "node")
        #expect(kubelet["tls_config"]?["ca_file"] == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
        #expect(kubelet["authorization"]?["credentials_file"] == "/var/run/secrets/kubernetes.io/serviceaccount/token")
        let cadvisor = try #require(jobs["netwatch/cluster/cadvisor"])
        #expect(cadvisor["metrics_path"] == "/metrics/cadvisor" && cadvisor["honor_timestamps"] == false)
        let apiServer = try #require(jobs["netwatch/cluster/apiserver"])
        #expect(apiServer["tls_config"]?["server_name"] == "kubernetes")
        #expect(apiServer["kubernetes_sd_configs"]?.sequence?.first?["role"] == "endpointslice")
        #expect(apiServer["kubernetes_sd_configs"]?.sequence?.first?["namespaces"]?["names"] == ["default"])
        #expect(apiServer["relabel_configs"]?.sequence?.contains { $0["regex"] == "(apiserver);true" } == true)
        let coreDNS = try #require(jobs["netwatch/cluster/coredns"])
        #expect(coreDNS["scheme"] == "http" && coreDNS["authorization"] == nil)
        #expect(coreDNS["kubernetes_sd_configs"]?.sequence?.first?["namespaces"]?["names"] == ["kube-system"])
        for (name, job) in jobs where name.hasPrefix("netwatch/cluster/") {
            let component = String(name.dropFirst("netwatch/cluster/".count))
            #expect(job["relabel_configs"]?.sequence?.last { $0["target_label"] == "job" }?["replacement"] == .string(component), "\(name)")
        }
    }

    @Test("under static discovery the same jobs read file_sd resolved from Nodes, the API server's EndpointSlice and the CoreDNS pods")
    func staticDiscovery() throws {
        let result = try Self.render(discovery: "static")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let jobs = try Self.jobs(result)
        for component in ["kubelet", "cadvisor", "apiserver", "coredns"] {
            let job = try #require(jobs["netwatch/cluster/\(component)"])
            #expect(job["file_sd_configs"]?.sequence?.first?["files"] == [.string("file_sd/cluster_\(component).json")], "\(component)")
        }
        func targets(_ component: String) throws -> [(String, [String: String])] {
            let file = try #require(result.artifacts.first { $0.path.hasSuffix("file_sd/cluster_\(component).json") })
            let groups = try JSONSerialization.jsonObject(with: Data(file.bytes)) as? [[String: Any]] ?? []
            return groups.map { (($0["targets"] as? [String])?.first ?? "", $0["labels"] as? [String: String] ?? [:]) }
        }
        let kubelet = try targets("kubelet")
        // The first InternalIP; else ExternalIP before Hostname; no target without an address.
        #expect(kubelet.map(\.0) == ["10.0.0.1:10250", "203.0.113.7:10250"])
        let nodeA = kubelet[0].1
        #expect(nodeA["instance"] == "node-a" && nodeA["__meta_kubernetes_node_address_InternalIP"] == "10.0.0.1" && nodeA["__meta_kubernetes_node_address_Hostname"] == "node-a")
        #expect(nodeA["__meta_kubernetes_node_provider_id"] == "aws:///eu-west-1a/i-0abc" && nodeA["__meta_kubernetes_node_condition_ready"] == "true")
        #expect(nodeA["__meta_kubernetes_node_labelpresent_node_role_kubernetes_io_control_plane"] == "true")
        #expect(try targets("cadvisor").map(\.0) == kubelet.map(\.0))
        #expect(try targets("apiserver").map(\.0) == ["10.0.0.100:6443"])
        #expect(try targets("coredns").map(\.0).contains("10.1.0.5:9153"))
    }
}
