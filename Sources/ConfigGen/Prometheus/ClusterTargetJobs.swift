import DataTree
import KubeModel
import NetWatchAPI

/// The scrape jobs of a stack's `clusterTargets`, in the manner of kube-prometheus (not checked
/// against it): over HTTPS with the Prometheus pod's service-account CA and token (mounted at
/// the standard path); CoreDNS over plain HTTP. Jobs `netwatch/cluster/<component>`; `job` is
/// `kubelet`, `cadvisor`, `apiserver` or `coredns`, the names dashboards expect.
///
/// They are ordinary jobs, so both discovery modes follow from the job kind: the kubelet and
/// cAdvisor are node jobs (Prometheus's node discovery, or file_sd from Node objects), the API
/// server is the `default/kubernetes` Service's `https` port (EndpointSlices), CoreDNS the
/// `k8s-app: kube-dns` pods' port 9153.
enum ClusterTargetJobs {
    static let serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"

    static func jobs(for stack: MonitoringStack) -> [ScrapeJob] {
        let targets = stack.spec.clusterTargets
        let reference = ObjectReference(kind: NetWatchKind.monitoringStack.rawValue, namespace: stack.namespace, name: stack.name)
        /// `serverName`: the name the API server's certificate carries; nil: the target's.
        func https(serverName: String? = nil) -> ResolvedSecurity {
            var tls = Mapping([("ca_file", .string(serviceAccount + "/ca.crt"))])
            if let serverName { tls["server_name"] = .string(serverName) }
            return ResolvedSecurity(keys: ["tls_config": .mapping(tls), "authorization": ["credentials_file": .string(serviceAccount + "/token")]])
        }
        func job(_ component: String, _ kind: ScrapeJob.Targets, path: String = "/metrics", scheme: NetworkMonitorSpec.Endpoint.Scheme,
                 security: ResolvedSecurity = ResolvedSecurity(), configure: (inout NetworkMonitorSpec.Endpoint) -> Void = { _ in }) -> ScrapeJob {
            var endpoint = NetworkMonitorSpec.Endpoint(port: nil, path: path, scheme: scheme)
            endpoint.endpointLabel = nil
            configure(&endpoint)
            var job = ScrapeJob(name: "netwatch/cluster/\(component)", fileStem: "cluster_\(component)", monitor: reference, jobLabel: component,
                                targets: kind, endpoint: endpoint)
            job.security = security
            return job
        }
        var jobs: [ScrapeJob] = []
        if targets.kubelet { jobs.append(job("kubelet", .nodes, scheme: .https, security: https())) }
        if targets.cadvisor {
            // cAdvisor stamps its own sample times; kube-prometheus does not honour them either.
            jobs.append(job("cadvisor", .nodes, path: "/metrics/cadvisor", scheme: .https, security: https()) { $0.honorTimestamps = false })
        }
        if targets.apiServer {
            let service = ScrapeJob.ServiceTargets(
                selector: LabelSelector(matchLabels: ["component": "apiserver", "provider": "kubernetes"]), namespaces: .names(["default"]),
                port: .servicePort("https"), targetLabels: [], podTargetLabels: [], jobLabel: nil, role: .endpointSlice, filterRunning: false)
            jobs.append(job("apiserver", .services(service), scheme: .https, security: https(serverName: "kubernetes")) { endpoint in
                endpoint.endpointLabel = "https"
                // The Service's name would be the job; dashboards expect apiserver.
                endpoint.relabelings = [RelabelConfig(targetLabel: "job", replacement: "apiserver")]
            })
        }
        if targets.coreDNS {
            // CoreDNS serves its metrics over plain HTTP.
            let pods = ScrapeJob.PodTargets(selector: LabelSelector(matchLabels: ["k8s-app": "kube-dns"]), namespaces: .names(["kube-system"]),
                                            port: .int(9153), podTargetLabels: [], filterRunning: true, jobLabel: nil)
            jobs.append(job("coredns", .pods(pods), scheme: .http))
        }
        return jobs
    }
}
