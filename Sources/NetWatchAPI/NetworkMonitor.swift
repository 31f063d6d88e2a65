public import KubeModel
import DataTree

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
    /// The pod label whose value becomes `job` (targets without it keep `<namespace>/<name>`).
    public var jobLabel: String?
    /// Per-job limits and protocols, as prometheus-operator's monitor-level fields.
    public var limits: ScrapeLimits
    /// Node labels on every target (`attach_metadata.node`, Kubernetes discovery).
    public var attachNodeMetadata: Bool
    /// The stack's scrape class whose defaults (TLS, authorization, relabelings) apply; nil:
    /// the stack's default class, if it has one.
    public var scrapeClass: String?

    public init(
        selector: LabelSelector? = nil, namespaceSelector: NamespaceSelector? = nil, endpoints: [Endpoint] = [],
        networkExporter: Bool = false, podTargetLabels: [String] = [], staticTargets: [StaticTargetGroup] = [],
        jobLabel: String? = nil, limits: ScrapeLimits = ScrapeLimits(), attachNodeMetadata: Bool = false
    ) {
        self.selector = selector
        self.namespaceSelector = namespaceSelector
        self.endpoints = endpoints
        self.networkExporter = networkExporter
        self.podTargetLabels = podTargetLabels
        self.staticTargets = staticTargets
        self.jobLabel = jobLabel
        self.limits = limits
        self.attachNodeMetadata = attachNodeMetadata
    }

    private enum CodingKeys: String, CodingKey {
        case selector, namespaceSelector, endpoints, networkExporter, podTargetLabels, staticTargets, jobLabel, attachMetadata, scrapeClass
    }
    private enum AttachMetadataKeys: String, CodingKey { case node }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        selector = try container.decodeIfPresent(LabelSelector.self, forKey: .selector)
        namespaceSelector = try container.decodeIfPresent(NamespaceSelector.self, forKey: .namespaceSelector)
        endpoints = try container.decodeIfPresent([Endpoint].self, forKey: .endpoints) ?? []
        networkExporter = try container.decodeIfPresent(Bool.self, forKey: .networkExporter) ?? false
        podTargetLabels = try container.decodeIfPresent([String].self, forKey: .podTargetLabels) ?? []
        staticTargets = try container.decodeIfPresent([StaticTargetGroup].self, forKey: .staticTargets) ?? []
        jobLabel = try container.decodeIfPresent(String.self, forKey: .jobLabel)
        scrapeClass = try container.decodeIfPresent(String.self, forKey: .scrapeClass)
        limits = try ScrapeLimits(from: decoder)
        if container.contains(.attachMetadata) {
            let attach = try container.nestedContainer(keyedBy: AttachMetadataKeys.self, forKey: .attachMetadata)
            attachNodeMetadata = try attach.decodeIfPresent(Bool.self, forKey: .node) ?? false
        } else {
            attachNodeMetadata = false
        }
    }

    /// One scrape endpoint on the selected pods.
    public struct Endpoint: Sendable, Hashable, Decodable {
        /// `http` or `https`; any case is accepted on input (prometheus-operator's `HTTPS` too).
        public enum Scheme: String, Sendable, Hashable, Decodable, CaseIterable {
            case http, https

            public init(from decoder: any Decoder) throws {
                let raw = try decoder.singleValueContainer().decode(String.self)
                guard let scheme = Scheme(rawValue: raw.lowercased()) else {
                    throw NodeDecodingError(path: FieldPath(), message: "unknown scheme \"\(raw)\"; use http or https")
                }
                self = scheme
            }
        }

        /// A container port, by name (`metrics`) or number (`9100`); nil (prometheus-operator
        /// objects only) scrapes every container port, and port-less containers by address.
        public var port: IntOrString?
        public var path: String
        public var interval: PrometheusDuration?
        public var scrapeTimeout: PrometheusDuration?
        public var scheme: Scheme
        public var honorLabels: Bool
        public var relabelings: [RelabelConfig]
        public var metricRelabelings: [RelabelConfig]
        /// Drop pods in phase Failed or Succeeded (default true).
        public var filterRunning: Bool
        /// The `endpoint` target label; nil writes none. NetworkMonitors use the port as written;
        /// prometheus-operator objects their `port` or `targetPort` (a `portNumber` gives none).
        public var endpointLabel: String?
        public var honorTimestamps: Bool?
        public var trackTimestampsStaleness: Bool?
        /// HTTP query parameters, written as `params` (sorted by key).
        public var params: [String: [String]]
        public var proxyURL: String?
        public var followRedirects: Bool?
        public var enableHTTP2: Bool?
        /// TLS and authentication; every secret is a reference, never a value.
        public var security: ScrapeSecurity

        public init(
            port: IntOrString?, path: String = "/metrics", interval: PrometheusDuration? = nil, scrapeTimeout: PrometheusDuration? = nil,
            scheme: Scheme = .http, honorLabels: Bool = false, relabelings: [RelabelConfig] = [], metricRelabelings: [RelabelConfig] = [],
            filterRunning: Bool = true
        ) {
            self.port = port
            self.path = path
            self.interval = interval
            self.scrapeTimeout = scrapeTimeout
            self.scheme = scheme
            self.honorLabels = honorLabels
            self.relabelings = relabelings
            self.metricRelabelings = metricRelabelings
            self.filterRunning = filterRunning
            endpointLabel = port?.description
            params = [:]
            security = ScrapeSecurity()
        }

        private enum CodingKeys: String, CodingKey {
            case port, path, interval, scrapeTimeout, scheme, honorLabels, relabelings, metricRelabelings, filterRunning
            case honorTimestamps, trackTimestampsStaleness, params, proxyUrl, followRedirects, enableHttp2
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            port = try container.decodeIfPresent(IntOrString.self, forKey: .port)
            path = try container.decodeIfPresent(String.self, forKey: .path) ?? "/metrics"
            interval = try container.decodeIfPresent(PrometheusDuration.self, forKey: .interval)
            scrapeTimeout = try container.decodeIfPresent(PrometheusDuration.self, forKey: .scrapeTimeout)
            scheme = try container.decodeIfPresent(Scheme.self, forKey: .scheme) ?? .http
            honorLabels = try container.decodeIfPresent(Bool.self, forKey: .honorLabels) ?? false
            relabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .relabelings) ?? []
            metricRelabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .metricRelabelings) ?? []
            filterRunning = try container.decodeIfPresent(Bool.self, forKey: .filterRunning) ?? true
            endpointLabel = port?.description
            honorTimestamps = try container.decodeIfPresent(Bool.self, forKey: .honorTimestamps)
            trackTimestampsStaleness = try container.decodeIfPresent(Bool.self, forKey: .trackTimestampsStaleness)
            params = try container.decodeIfPresent([String: [String]].self, forKey: .params) ?? [:]
            proxyURL = try container.decodeIfPresent(String.self, forKey: .proxyUrl)
            followRedirects = try container.decodeIfPresent(Bool.self, forKey: .followRedirects)
            enableHTTP2 = try container.decodeIfPresent(Bool.self, forKey: .enableHttp2)
            security = try ScrapeSecurity(from: decoder)
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

/// Per-job limits and protocols (prometheus-operator's monitor-level fields); unset fields
/// are not written, so Prometheus's defaults (no limit) apply.
public struct ScrapeLimits: Sendable, Hashable, Decodable {
    public var sampleLimit: Int?
    public var targetLimit: Int?
    public var labelLimit: Int?
    public var labelNameLengthLimit: Int?
    public var labelValueLengthLimit: Int?
    public var keepDroppedTargets: Int?
    /// A Prometheus byte size, e.g. `10MB`.
    public var bodySizeLimit: String?
    /// `scrape_protocols`, in preference order.
    public var scrapeProtocols: [String]

    public init() { scrapeProtocols = [] }

    private enum CodingKeys: String, CodingKey {
        case sampleLimit, targetLimit, labelLimit, labelNameLengthLimit, labelValueLengthLimit, keepDroppedTargets, bodySizeLimit, scrapeProtocols
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sampleLimit = try container.decodeIfPresent(Int.self, forKey: .sampleLimit)
        targetLimit = try container.decodeIfPresent(Int.self, forKey: .targetLimit)
        labelLimit = try container.decodeIfPresent(Int.self, forKey: .labelLimit)
        labelNameLengthLimit = try container.decodeIfPresent(Int.self, forKey: .labelNameLengthLimit)
        labelValueLengthLimit = try container.decodeIfPresent(Int.self, forKey: .labelValueLengthLimit)
        keepDroppedTargets = try container.decodeIfPresent(Int.self, forKey: .keepDroppedTargets)
        bodySizeLimit = try container.decodeIfPresent(String.self, forKey: .bodySizeLimit)
        scrapeProtocols = try container.decodeIfPresent([String].self, forKey: .scrapeProtocols) ?? []
    }

    /// The limits set, in prometheus-operator's order: the field name and the Prometheus key.
    public var setLimits: [(field: String, key: String, value: Int)] {
        let all: [(String, String, Int?)] = [
            ("sampleLimit", "sample_limit", sampleLimit), ("targetLimit", "target_limit", targetLimit), ("labelLimit", "label_limit", labelLimit),
            ("labelNameLengthLimit", "label_name_length_limit", labelNameLengthLimit),
            ("labelValueLengthLimit", "label_value_length_limit", labelValueLengthLimit), ("keepDroppedTargets", "keep_dropped_targets", keepDroppedTargets),
        ]
        return all.compactMap { field, key, value in value.map { (field, key, $0) } }
    }

    /// The protocols Prometheus knows (`scrape_protocols`).
    public static let protocols = ["PrometheusProto", "OpenMetricsText0.0.1", "OpenMetricsText1.0.0", "PrometheusText0.0.4", "PrometheusText1.0.0"]
}
