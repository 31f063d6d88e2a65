import DataTree
import NetWatchAPI

/// The scrape jobs of a stack's `clusterTargets`, in the manner of kube-prometheus (not checked
/// against it): over HTTPS with the Prometheus pod's service-account CA and token (mounted at
/// the standard path), through Kubernetes discovery; CoreDNS over plain HTTP. Jobs `netwatch/cluster/<component>`; `job` is
/// `kubelet`, `cadvisor`, `apiserver` or `coredns`, the names dashboards expect.
enum ClusterTargetJobs {
    static let serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"

    static func configs(_ targets: ClusterTargets, shard: RelabelRules.Shard?) -> [Node] {
        let ca = serviceAccount + "/ca.crt"
        /// `tls`: the TLS settings of an HTTPS job (with the service account's token); nil: plain HTTP.
        func job(_ component: String, path: String = "/metrics", role: String, namespaces: [String]? = nil, honorTimestamps: Bool? = nil,
                 tls: Node?, relabelings: [Node]) -> Node {
            var mapping = Mapping()
            mapping["job_name"] = .string("netwatch/cluster/\(component)")
            if let honorTimestamps { mapping["honor_timestamps"] = .bool(honorTimestamps) }
            mapping["metrics_path"] = .string(path)
            mapping["scheme"] = tls == nil ? "http" : "https"
            if let tls {
                mapping["tls_config"] = tls
                mapping["authorization"] = ["credentials_file": .string(serviceAccount + "/token")]
            }
            var sd = Mapping([("role", .string(role))])
            if let namespaces { sd["namespaces"] = ["names": .strings(namespaces)] }
            mapping["kubernetes_sd_configs"] = [.mapping(sd)]
            mapping["relabel_configs"] = .sequence(relabelings + [RelabelRules.rule(("target_label", "job"), ("replacement", .string(component)))] + RelabelRules.sharding(shard))
            return .mapping(mapping)
        }
        let node = [RelabelRules.rule(("source_labels", ["__meta_kubernetes_node_name"]), ("target_label", "node"))]
        var jobs: [Node] = []
        if targets.kubelet {
            jobs.append(job("kubelet", role: "node", tls: ["ca_file": .string(ca)], relabelings: node))
        }
        if targets.cadvisor {
            // cAdvisor stamps its own sample times; kube-prometheus does not honour them either.
            jobs.append(job("cadvisor", path: "/metrics/cadvisor", role: "node", honorTimestamps: false, tls: ["ca_file": .string(ca)], relabelings: node))
        }
        if targets.apiServer {
            jobs.append(job("apiserver", role: "endpoints", namespaces: ["default"], tls: ["ca_file": .string(ca), "server_name": "kubernetes"], relabelings: [
                RelabelRules.rule(("action", "keep"), ("source_labels", ["__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"]),
                                  ("separator", ";"), ("regex", "kubernetes;https")),
            ]))
        }
        if targets.coreDNS {
            // CoreDNS serves its metrics over plain HTTP.
            jobs.append(job("coredns", role: "pod", namespaces: ["kube-system"], tls: nil, relabelings: [
                RelabelRules.rule(("action", "keep"), ("source_labels", ["__meta_kubernetes_pod_label_k8s_app"]), ("regex", "kube-dns")),
                RelabelRules.rule(("action", "keep"), ("source_labels", ["__meta_kubernetes_pod_container_port_number"]), ("regex", "9153")),
                RelabelRules.rule(("source_labels", ["__meta_kubernetes_pod_name"]), ("target_label", "pod")),
            ]))
        }
        return jobs
    }
}
