public import KubeModel

/// `NetworkMonitor` (netwatch.dev/v1alpha1): which pods (and outside hosts) to scrape.
public struct NetworkMonitorSpec: Sendable, Hashable, Decodable {
    /// Pods to scrape: `{}` selects every pod in the selected namespaces, absent selects none
    /// (a monitor may carry only `staticTargets`).
    public var selector: LabelSelector?
    /// Where to look for pods; absent means the monitor's own namespace.
    public var namespaceSelector: NamespaceSelector?
    public var endpoints: [Endpoint]
    /// Also scrape the injected per-pod network exporter sidecar on its named port.
    public var networkExporter: Bool
    /// Pod labels copied onto every target.
    public var podTargetLabels: [String]
    public var staticTargets: [StaticTargetGroup]

    public init(
        selector: LabelSelector? = nil, namespaceSelector: NamespaceSelector? = nil, endpoints: [Endpoint] = [],
        networkExporter: Bool = false, podTargetLabels: [String] = [], staticTargets: [StaticTargetGroup] = []
    ) {
        self.selector = selector
        self.namespaceSelector = namespaceSelector
        self.endpoints = endpoints
        self.networkExporter = networkExporter
        self.podTargetLabels = podTargetLabels
        self.staticTargets = staticTargets
    }

    private enum CodingKeys: String, CodingKey { case selector, namespaceSelector, endpoints, networkExporter, podTargetLabels, staticTargets }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        selector = try container.decodeIfPresent(LabelSelector.self, forKey: .selector)
        namespaceSelector = try container.decodeIfPresent(NamespaceSelector.self, forKey: .namespaceSelector)
        endpoints = try container.decodeIfPresent([Endpoint].self, forKey: .endpoints) ?? []
        networkExporter = try container.decodeIfPresent(Bool.self, forKey: .networkExporter) ?? false
        podTargetLabels = try container.decodeIfPresent([String].self, forKey: .podTargetLabels) ?? []
        staticTargets = try container.decodeIfPresent([StaticTargetGroup].self, forKey: .staticTargets) ?? []
    }

    /// One scrape endpoint on the selected pods.
    public struct Endpoint: Sendable, Hashable, Decodable {
        public enum Scheme: String, Sendable, Hashable, Decodable, CaseIterable { case http, https }

        /// A container port, by name (`metrics`) or number (`9100`).
        public var port: IntOrString
        public var path: String
        public var interval: PrometheusDuration?
        public var scrapeTimeout: PrometheusDuration?
        public var scheme: Scheme
        public var honorLabels: Bool
        public var relabelings: [RelabelConfig]
        public var metricRelabelings: [RelabelConfig]

        public init(
            port: IntOrString, path: String = "/metrics", interval: PrometheusDuration? = nil, scrapeTimeout: PrometheusDuration? = nil,
            scheme: Scheme = .http, honorLabels: Bool = false, relabelings: [RelabelConfig] = [], metricRelabelings: [RelabelConfig] = []
        ) {
            self.port = port
            self.path = path
            self.interval = interval
            self.scrapeTimeout = scrapeTimeout
            self.scheme = scheme
            self.honorLabels = honorLabels
            self.relabelings = relabelings
            self.metricRelabelings = metricRelabelings
        }

        private enum CodingKeys: String, CodingKey { case port, path, interval, scrapeTimeout, scheme, honorLabels, relabelings, metricRelabelings }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            port = try container.decode(IntOrString.self, forKey: .port)
            path = try container.decodeIfPresent(String.self, forKey: .path) ?? "/metrics"
            interval = try container.decodeIfPresent(PrometheusDuration.self, forKey: .interval)
            scrapeTimeout = try container.decodeIfPresent(PrometheusDuration.self, forKey: .scrapeTimeout)
            scheme = try container.decodeIfPresent(Scheme.self, forKey: .scheme) ?? .http
            honorLabels = try container.decodeIfPresent(Bool.self, forKey: .honorLabels) ?? false
            relabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .relabelings) ?? []
            metricRelabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .metricRelabelings) ?? []
        }
    }

    /// Hosts outside the cluster (node_exporter on VMs), with labels for all of them.
    public struct StaticTargetGroup: Sendable, Hashable, Decodable {
        public var targets: [String]
        public var labels: [String: String]

        public init(targets: [String], labels: [String: String] = [:]) {
            self.targets = targets
            self.labels = labels
        }

        private enum CodingKeys: String, CodingKey { case targets, labels }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            targets = try container.decode([String].self, forKey: .targets)
            labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        }
    }
}

/// The per-pod network exporter sidecar's contract, shared by scrape generation and injection.
public enum NetworkExporterSidecar {
    /// The named container port the sidecar exposes metrics on (≤ 15 characters, IANA style).
    public static let portName = "nw-exporter"
    public static let port = 9_532
    public static let containerName = "netwatch-network-exporter"
    /// node_exporter's command line: only the collectors that read the network namespace the
    /// process runs in (/proc/net is per namespace), listening on `port`.
    public static let arguments = [
        "--web.listen-address=:\(port)", "--collector.disable-defaults",
        "--collector.netdev", "--collector.netstat", "--collector.sockstat", "--collector.conntrack",
    ]
}
