public import Flows
public import KubeModel
public import NetWatchAPI

/// Everything `render` reads: the cluster objects and netwatch resources, as values.
///
/// The operator builds it from its watch caches, `netwatch render` from manifests on disk; the
/// order of the arrays does not matter (render sorts what it emits).
public struct Snapshot: Sendable, Hashable {
    public var namespaces: [Namespace]
    public var pods: [Pod]
    public var services: [Service]
    /// EndpointSlices, read for ServiceMonitors under static discovery.
    public var endpointSlices: [EndpointSlice] = []
    /// Ingresses, read for probes of Ingress hosts under static discovery.
    public var ingresses: [Ingress] = []
    /// Nodes, read for the kubelet and cAdvisor under static discovery.
    public var nodes: [ClusterNode] = []
    /// Secrets and ConfigMaps scrape endpoints may reference (TLS, authentication).
    public var credentialObjects: [CredentialObject] = []
    /// Whether every Secret and ConfigMap endpoints reference was looked for (the operator
    /// fetches them), so one absent from `credentialObjects` does not exist. Off for
    /// `netwatch render`, whose Secrets live in the cluster rather than among the manifests.
    public var credentialsAuthoritative = false
    public var workloads: [Workload]
    public var monitoringStacks: [MonitoringStack]
    public var networkMonitors: [NetworkMonitor]
    public var networkAlerts: [NetworkAlerts]
    public var networkDashboards: [NetworkDashboard] = []
    public var sidecarInjectors: [SidecarInjector] = []
    public var flowPolicies: [FlowPolicy] = []
    public var networkProbes: [NetworkProbe] = []
    /// prometheus-operator Probes (static targets; their modules are the prober's own).
    public var prometheusOperatorProbes: [PrometheusOperatorProbe] = []
    /// Connections read from flow files (`netwatch render` inputs); policies are proposed from them.
    public var observedConnections: [ObservedConnection] = []
    /// prometheus-operator PrometheusRules, as NetworkAlerts with custom groups only.
    public var prometheusRules: [NetworkAlerts]
    /// prometheus-operator PodMonitors, read as NetworkMonitors (jobs named `podMonitor/…`).
    public var podMonitors: [NetworkMonitor]
    /// prometheus-operator ServiceMonitors (scraped with Kubernetes discovery only).
    public var serviceMonitors: [ServiceMonitor]

    public init(
        namespaces: [Namespace] = [], pods: [Pod] = [], services: [Service] = [], workloads: [Workload] = [],
        monitoringStacks: [MonitoringStack] = [], networkMonitors: [NetworkMonitor] = [],
        podMonitors: [NetworkMonitor] = [], serviceMonitors: [ServiceMonitor] = [], networkAlerts: [NetworkAlerts] = [],
        prometheusRules: [NetworkAlerts] = []
    ) {
        self.prometheusRules = prometheusRules
        self.networkAlerts = networkAlerts
        self.podMonitors = podMonitors
        self.serviceMonitors = serviceMonitors
        self.namespaces = namespaces
        self.pods = pods
        self.services = services
        self.workloads = workloads
        self.monitoringStacks = monitoringStacks
        self.networkMonitors = networkMonitors
    }
}

extension Snapshot {
    /// Builds a snapshot from raw objects, validating netwatch's resources. Invalid objects
    /// become diagnostics and are left out; objects of unknown kinds are ignored; the same
    /// object twice (same kind, namespace and name) is an error and only the first is kept.
    public static func decode(_ objects: [RawObject]) -> (Snapshot, [Diagnostic]) {
        var snapshot = Snapshot()
        var diagnostics: [Diagnostic] = []
        var seen: [ObjectReference: SourceLocation?] = [:]
        for raw in objects {
            if let problem = raw.metadata.annotations[ObjectMeta.unreadableAnnotation] {
                diagnostics.append(Diagnostic(.error, object: raw.reference, source: raw.source,
                                              message: "the API server sent this object but it cannot be read (\(problem)); it is left out until it is fixed or deleted"))
                continue
            }
            let reference = ObjectReference(kind: raw.type.kind, namespace: raw.metadata.namespace, name: raw.metadata.name)
            if let first = seen[reference] {
                let where_ = first.map { " (first defined at \($0))" } ?? ""
                diagnostics.append(Diagnostic(.error, object: raw.reference, source: raw.source, message: "defined twice\(where_); this copy is ignored"))
                continue
            }
            seen[reference] = raw.source
            if raw.type.group == NetWatchKind.group {
                guard let kind = NetWatchKind(rawValue: raw.type.kind) else {
                    diagnostics.append(Diagnostic(.warning, object: raw.reference, source: raw.source, message: "netwatch does not know the kind \(raw.type.kind); it is ignored"))
                    continue
                }
                let (resource, problems) = kind.decode(raw)
                diagnostics += problems
                switch resource {
                case .monitoringStack(let stack)?: snapshot.monitoringStacks.append(stack)
                case .networkMonitor(let monitor)?: snapshot.networkMonitors.append(monitor)
                case .networkAlerts(let alerts)?: snapshot.networkAlerts.append(alerts)
                case .networkDashboard(let dashboard)?: snapshot.networkDashboards.append(dashboard)
                case .sidecarInjector(let injector)?: snapshot.sidecarInjectors.append(injector)
                case .flowPolicy(let policy)?: snapshot.flowPolicies.append(policy)
                case .networkProbe(let probe)?: snapshot.networkProbes.append(probe)
                case nil: break
                }
                continue
            }
            if raw.type.group == PrometheusOperatorKind.group {
                guard let kind = PrometheusOperatorKind(rawValue: raw.type.kind) else { continue }  // e.g. Prometheus, Alertmanager: not read
                let (resource, problems) = kind.decode(raw)
                diagnostics += problems
                switch resource {
                case .podMonitor(let monitor)?: snapshot.podMonitors.append(monitor)
                case .serviceMonitor(let monitor)?: snapshot.serviceMonitors.append(monitor)
                case .prometheusRule(let rule)?: snapshot.prometheusRules.append(rule)
                case .probe(let probe)?: snapshot.prometheusOperatorProbes.append(probe)
                case nil: break
                }
                continue
            }
            if let credentials = CredentialObject.decode(raw) {
                snapshot.credentialObjects.append(credentials)
                continue
            }
            switch ObjectReader.decode(raw) {
            case .success(.namespace(let namespace)): snapshot.namespaces.append(namespace)
            case .success(.pod(var pod)):
                if pod.metadata.namespace == nil { pod.metadata.namespace = "default" }
                snapshot.pods.append(pod)
            case .success(.service(let service)): snapshot.services.append(service)
            case .success(.endpointSlice(var slice)):
                if slice.metadata.namespace == nil { slice.metadata.namespace = "default" }
                snapshot.endpointSlices.append(slice)
            case .success(.ingress(var ingress)):
                if ingress.metadata.namespace == nil { ingress.metadata.namespace = "default" }
                snapshot.ingresses.append(ingress)
            case .success(.node(let node)): snapshot.nodes.append(node)
            case .success(.workload(let workload)): snapshot.workloads.append(workload)
            case .success(.other): break
            case .failure(let diagnostic): diagnostics.append(diagnostic)
            }
        }
        return (snapshot, diagnostics)
    }
}
