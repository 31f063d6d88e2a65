public import KubeModel
public import NetWatchAPI

/// One Prometheus scrape job, decided from a NetworkMonitor before any YAML exists.
public struct ScrapeJob: Sendable, Hashable {
    /// The namespaces a job looks for pods in.
    public enum NamespaceScope: Sendable, Hashable {
        case all
        /// Sorted names.
        case names([String])

        func contains(_ namespace: String) -> Bool {
            switch self {
            case .all: true
            case .names(let names): names.contains(namespace)
            }
        }
    }

    /// Pods selected by label, scraped on one container port.
    public struct PodTargets: Sendable, Hashable {
        public var selector: LabelSelector
        public var namespaces: NamespaceScope
        public var port: IntOrString
        public var podTargetLabels: [String]
    }

    /// Endpoints of Services selected by label (ServiceMonitor), found by Prometheus's
    /// EndpointSlice discovery; `job` is the Service name or its `jobLabel` label.
    public struct ServiceTargets: Sendable, Hashable {
        public var selector: LabelSelector
        public var namespaces: NamespaceScope
        public var port: ServiceMonitorSpec.PortChoice
        public var targetLabels: [String]
        public var podTargetLabels: [String]
        public var jobLabel: String?
    }

    public enum Targets: Sendable, Hashable {
        case pods(PodTargets)
        case services(ServiceTargets)
        case staticGroups([NetworkMonitorSpec.StaticTargetGroup])
    }

    /// `netwatch/<namespace>/<monitor>/<endpoint index | network-exporter | static>`.
    public var name: String
    /// File name stem for file_sd: `<namespace>_<monitor>_<suffix>`; a valid ConfigMap key.
    public var fileStem: String
    public var monitor: ObjectReference
    /// The `job` target label: `<namespace>/<monitor>`, as prometheus-operator sets for PodMonitors.
    public var jobLabel: String
    public var targets: Targets
    public var interval: PrometheusDuration?
    public var scrapeTimeout: PrometheusDuration?
    public var path: String
    public var scheme: NetworkMonitorSpec.Endpoint.Scheme
    public var honorLabels: Bool
    public var relabelings: [RelabelConfig]
    public var metricRelabelings: [RelabelConfig]
}

/// The jobs of one MonitoringStack, and what went wrong choosing them.
public struct StackPlan: Sendable, Hashable {
    public var stack: MonitoringStack
    public var jobs: [ScrapeJob]
    public var diagnostics: [Diagnostic]
    /// Rule files of the NetworkAlerts the stack selects, relative to prometheus.yml.
    public var ruleFiles: [String] = []
}

