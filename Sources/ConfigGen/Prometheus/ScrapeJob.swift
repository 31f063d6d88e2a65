public import KubeModel
public import NetWatchAPI

/// One Prometheus scrape job, decided from a monitor before any YAML exists.
public struct ScrapeJob: Sendable, Hashable {
    /// The namespaces a job looks for pods in.
    public enum NamespaceScope: Sendable, Hashable {
        case all
        /// Sorted names; empty selects nothing (never "all", as an empty `names` would in Prometheus).
        case names([String])

        func contains(_ namespace: String) -> Bool {
            switch self {
            case .all: true
            case .names(let names): names.contains(namespace)
            }
        }

        /// A namespace selector that matched no namespace.
        var isEmpty: Bool { self == .names([]) }
    }

    /// Pods selected by label, scraped on one container port (or all of them).
    public struct PodTargets: Sendable, Hashable {
        public var selector: LabelSelector
        public var namespaces: NamespaceScope
        /// nil: every container port, and each port-less container by its bare address.
        public var port: IntOrString?
        public var podTargetLabels: [String]
        /// Drop pods in phase Failed or Succeeded.
        public var filterRunning: Bool = true
        /// The pod label whose value replaces the default `job`.
        public var jobLabel: String?
        /// Set when the pods are probed through a blackbox_exporter rather than scraped.
        public var probe: ProbeRewrite? = nil
    }

    /// How a discovered address becomes a probe: the target (`__param_target`, then
    /// `instance`) and the prober as `__address__`.
    public struct ProbeRewrite: Sendable, Hashable {
        public enum TargetForm: Sendable, Hashable {
            /// `host:port` as discovered.
            case address
            /// `http://host:port`.
            case httpURL
            /// The host alone (ICMP).
            case host
        }

        public var prober: String
        public var form: TargetForm
    }

    /// Ingress hosts found by Prometheus's Ingress discovery (prometheus-operator's Probe
    /// `targets.ingress`), probed through a blackbox_exporter.
    public struct IngressTargets: Sendable, Hashable {
        public enum TargetForm: Sendable, Hashable {
            /// `scheme://host/path`, as prometheus-operator writes it.
            case url
            /// `host:443` for TLS hosts, `host:80` for the others.
            case hostPort
            /// `host:443`, TLS hosts only.
            case tlsHostPort
            /// The host alone (ICMP).
            case host
        }

        public var selector: LabelSelector
        public var namespaces: NamespaceScope
        public var prober: String
        public var form: TargetForm = .url
        /// The `job` label instead of the job name.
        public var jobLabel: String? = nil
        /// Leave out rules without a host (prometheus-operator keeps them, probing the
        /// prober itself without a target).
        public var dropHostless = false
    }

    /// Endpoints of Services selected by label (ServiceMonitor), found by Prometheus's
    /// EndpointSlice (or Endpoints) discovery; `job` is the Service name or its `jobLabel` label.
    public struct ServiceTargets: Sendable, Hashable {
        public var selector: LabelSelector
        public var namespaces: NamespaceScope
        public var port: ServiceMonitorSpec.PortChoice
        public var targetLabels: [String]
        public var podTargetLabels: [String]
        public var jobLabel: String?
        public var role: ServiceMonitorSpec.DiscoveryRole = .endpointSlice
        public var filterRunning: Bool = true
    }

    /// A NetworkProbe's targets, probed through a blackbox_exporter (`__address__`) with a
    /// module of the stack's blackbox.yml.
    public struct ProbeTargets: Sendable, Hashable {
        public var groups: [NetworkMonitorSpec.StaticTargetGroup]
        /// The prober as host:port.
        public var prober: String
        /// The module parameter; nil for a prometheus-operator Probe without one.
        public var module: String?
        /// prometheus-operator's `jobName`: the `job` label instead of the job name.
        public var jobLabel: String? = nil
    }

    public enum Targets: Sendable, Hashable {
        case pods(PodTargets)
        case services(ServiceTargets)
        case staticGroups([NetworkMonitorSpec.StaticTargetGroup])
        case probe(ProbeTargets)
        case ingresses(IngressTargets)
        /// Every Node's kubelet (Prometheus's node discovery).
        case nodes
    }

    /// `netwatch/<namespace>/<monitor>/<endpoint index | network-exporter | static>`.
    public var name: String
    /// File name stem for file_sd: `<namespace>_<monitor>_<suffix>`; a valid ConfigMap key.
    public var fileStem: String
    public var monitor: ObjectReference
    /// The `job` target label: `<namespace>/<monitor>`, as prometheus-operator sets for PodMonitors.
    public var jobLabel: String
    public var targets: Targets
    /// How to scrape: path, scheme, interval, timeout, HTTP options, relabelings; its `port` is
    /// in `targets`, and its `endpointLabel` is the `endpoint` target label (nil: none).
    public var endpoint: NetworkMonitorSpec.Endpoint
    public var limits: ScrapeLimits = ScrapeLimits()
    /// `attach_metadata: {node: true}` under Kubernetes discovery.
    public var attachNodeMetadata = false
    /// The endpoint's TLS and authentication as Prometheus keys, and the files they read.
    var security = ResolvedSecurity()

    public var interval: PrometheusDuration? { endpoint.interval }
    public var scrapeTimeout: PrometheusDuration? { endpoint.scrapeTimeout }
    public var relabelings: [RelabelConfig] { endpoint.relabelings }
    public var metricRelabelings: [RelabelConfig] { endpoint.metricRelabelings }
}

/// The jobs of one MonitoringStack, and what went wrong choosing them.
public struct StackPlan: Sendable, Hashable {
    public var stack: MonitoringStack
    public var jobs: [ScrapeJob]
    public var diagnostics: [Diagnostic]
    /// Rule files of the NetworkAlerts the stack selects, relative to prometheus.yml.
    public var ruleFiles: [String] = []

    /// The Secret and ConfigMap keys the stack's jobs read from `credentials/`, sorted, once each.
    public var credentialFiles: [CredentialSource] {
        var seen: Set<String> = []
        return jobs.flatMap(\.security.files).sorted().filter { seen.insert($0.fileName).inserted }
    }
}
