public import KubeModel
import DataTree

/// `MonitoringStack` (netwatch.dev/v1alpha1): one Prometheus whose configuration netwatch owns,
/// and which monitors, alerts and dashboards feed it.
public struct MonitoringStackSpec: Sendable, Hashable, Decodable {
    public var prometheus: PrometheusSettings
    /// Selects NetworkMonitors by label: `{}` selects all, absent selects none.
    public var monitorSelector: LabelSelector?
    /// Where selected monitors may live; absent means the stack's own namespace.
    public var monitorNamespaceSelector: NamespaceSelector?
    public var alertSelector: LabelSelector?
    public var dashboardSelector: LabelSelector?
    /// Selects NetworkProbes by label (from the monitor namespaces): `{}` selects all, absent none.
    public var probeSelector: LabelSelector?
    /// The kubelet, cAdvisor, API server and CoreDNS, scraped with in-cluster credentials.
    public var clusterTargets = ClusterTargets()
    public var grafana: GrafanaSettings
    /// Defaults for the endpoints of this stack's monitors (prometheus-operator's scrape classes).
    public var scrapeClasses: [ScrapeClass] = []

    public init(
        prometheus: PrometheusSettings = PrometheusSettings(), monitorSelector: LabelSelector? = nil,
        monitorNamespaceSelector: NamespaceSelector? = nil, grafana: GrafanaSettings = GrafanaSettings()
    ) {
        self.prometheus = prometheus
        self.monitorSelector = monitorSelector
        self.monitorNamespaceSelector = monitorNamespaceSelector
        self.grafana = grafana
    }

    private enum CodingKeys: String, CodingKey {
        case prometheus, monitorSelector, monitorNamespaceSelector, alertSelector, dashboardSelector, probeSelector, grafana, scrapeClasses, clusterTargets
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prometheus = try container.decodeIfPresent(PrometheusSettings.self, forKey: .prometheus) ?? PrometheusSettings()
        monitorSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .monitorSelector)
        monitorNamespaceSelector = try container.decodeIfPresent(NamespaceSelector.self, forKey: .monitorNamespaceSelector)
        alertSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .alertSelector)
        dashboardSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .dashboardSelector)
        probeSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .probeSelector)
        clusterTargets = try container.decodeIfPresent(ClusterTargets.self, forKey: .clusterTargets) ?? ClusterTargets()
        grafana = try container.decodeIfPresent(GrafanaSettings.self, forKey: .grafana) ?? GrafanaSettings()
        scrapeClasses = try container.decodeIfPresent([ScrapeClass].self, forKey: .scrapeClasses) ?? []
    }

    /// The class a monitor naming `name` (nil: none) uses: that class, else the default one;
    /// `.failure` when the name is not a class of this stack.
    public func scrapeClass(named name: String?) -> Result<ScrapeClass?, ScrapeClass.UnknownName> {
        guard let name else { return .success(scrapeClasses.first { $0.isDefault }) }
        guard let found = scrapeClasses.first(where: { $0.name == name }) else {
            return .failure(ScrapeClass.UnknownName(name: name, known: scrapeClasses.map(\.name)))
        }
        return .success(found)
    }
}

/// Endpoint defaults a stack's administrator sets once: TLS (e.g. a service mesh's mTLS
/// certificate files), authorization and relabelings (prometheus-operator's `scrapeClasses`).
public struct ScrapeClass: Sendable, Hashable, Decodable {
    public struct UnknownName: Error, Sendable, Hashable {
        public var name: String
        public var known: [String]
    }

    public var name: String
    /// The class of monitors that name none; at most one.
    public var isDefault: Bool
    /// Used whole by endpoints without TLS settings; otherwise it fills only the CA,
    /// certificate and key files the endpoint has neither a file nor a reference for. Files
    /// only (`caFile`, `certFile`, `keyFile`): a class belongs to no monitor's namespace.
    public var tlsConfig: ScrapeTLSConfig?
    /// Used by endpoints without any authentication; its `credentialsFile` also fills an
    /// endpoint's authorization that names only a type.
    public var authorization: ScrapeAuthorization?
    /// Run after netwatch's rules and before the endpoint's own.
    public var relabelings: [RelabelConfig]
    public var metricRelabelings: [RelabelConfig]
    /// `attachMetadata.node` for monitors that do not set it.
    public var attachNodeMetadata: Bool?

    private enum CodingKeys: String, CodingKey { case name, isDefault = "default", tlsConfig, authorization, relabelings, metricRelabelings, attachMetadata }
    private enum AttachMetadataKeys: String, CodingKey { case node }

    public init(name: String, isDefault: Bool = false) {
        self.name = name
        self.isDefault = isDefault
        relabelings = []
        metricRelabelings = []
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        isDefault = try container.decodeIfPresent(Bool.self, forKey: .isDefault) ?? false
        tlsConfig = try container.decodeIfPresent(ScrapeTLSConfig.self, forKey: .tlsConfig)
        authorization = try container.decodeIfPresent(ScrapeAuthorization.self, forKey: .authorization)
        relabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .relabelings) ?? []
        metricRelabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .metricRelabelings) ?? []
        if container.contains(.attachMetadata) {
            attachNodeMetadata = try container.nestedContainer(keyedBy: AttachMetadataKeys.self, forKey: .attachMetadata).decodeIfPresent(Bool.self, forKey: .node)
        }
    }

    /// The endpoint with this class's defaults merged in, as prometheus-operator merges them.
    public func applied(to endpoint: NetworkMonitorSpec.Endpoint) -> NetworkMonitorSpec.Endpoint {
        var endpoint = endpoint
        if let tls = tlsConfig {
            if var own = endpoint.security.tlsConfig, own != ScrapeTLSConfig() {
                if own.ca == nil && own.caFile == nil { own.caFile = tls.caFile }
                if own.cert == nil && own.certFile == nil { own.certFile = tls.certFile }
                if own.keySecret == nil && own.keyFile == nil { own.keyFile = tls.keyFile }
                endpoint.security.tlsConfig = own
            } else {
                endpoint.security.tlsConfig = tls
            }
        }
        if let authorization {
            let security = endpoint.security
            if var own = security.authorization {
                if own.credentials == nil && own.credentialsFile == nil { own.credentialsFile = authorization.credentialsFile }
                endpoint.security.authorization = own
            } else if security.basicAuth == nil && security.oauth2 == nil && security.bearerTokenSecret == nil && security.bearerTokenFile == nil {
                endpoint.security.authorization = authorization
            }
        }
        endpoint.relabelings = relabelings + endpoint.relabelings
        endpoint.metricRelabelings = metricRelabelings + endpoint.metricRelabelings
        return endpoint
    }

    static let schema = Schema.object(properties: [
        .init("name", .string(description: "Name monitors use in spec.scrapeClass.")),
        .init("default", .boolean(description: "The class of monitors that name none; at most one class.")),
        .init("tlsConfig", ScrapeTLSConfig.schema),
        .init("authorization", ScrapeAuthorization.schema),
        .init("relabelings", .array(items: RelabelConfig.schema, description: "Run after netwatch's rules, before the endpoint's.")),
        .init("metricRelabelings", .array(items: RelabelConfig.schema, description: "Run before the endpoint's metric relabelings.")),
        .init("attachMetadata", .object(properties: [.init("node", .boolean(description: "Node labels on targets (Kubernetes discovery)."))])),
    ], required: ["name"])
}

/// How a stack's Prometheus scrapes and where its configuration goes.
public struct PrometheusSettings: Sendable, Hashable, Decodable {
    public enum Discovery: String, Sendable, Hashable, Decodable, CaseIterable {
        /// `kubernetes_sd_configs` with relabel rules; Prometheus watches pods itself.
        case kubernetes
        /// netwatch resolves pod addresses and writes `file_sd` target files.
        case `static`
    }

    /// Where the rendered configuration is delivered. Exactly one is set.
    public enum Output: Sendable, Hashable {
        case configMap(String)
        case secret(String)
        case directory(String)
    }

    public struct Endpoint: Sendable, Hashable, Decodable {
        public var url: String
        public var name: String?

        public init(url: String, name: String? = nil) {
            self.url = url
            self.name = name
        }
    }

    public struct Reload: Sendable, Hashable, Decodable {
        public var url: String
    }

    public var scrapeInterval: PrometheusDuration
    public var scrapeTimeout: PrometheusDuration
    public var evaluationInterval: PrometheusDuration
    public var externalLabels: [String: String]
    public var discovery: Discovery
    public var shards: Int
    public var remoteWrite: [Endpoint]
    public var alertmanagers: [Endpoint]
    /// nil: a ConfigMap named after the stack (`<stack>-prometheus`).
    public var output: Output?
    public var reload: Reload?
    /// The labels of this Prometheus's pods (in the stack's namespace), so NetworkPolicies that
    /// netwatch learns from flows let it scrape what netwatch configured it to scrape.
    public var podSelector: [String: String]
    /// The Prometheus version the configuration is for; nil: a current one (3.x). Decides what
    /// only newer versions can read (a basic-auth user name from a file needs 3.0).
    public var version: PrometheusVersion?

    public static let defaultPodSelector = ["app.kubernetes.io/name": "prometheus"]
    public static let defaultScrapeInterval = (try? PrometheusDuration(parsing: "30s")) ?? PrometheusDuration.zero
    public static let defaultScrapeTimeout = (try? PrometheusDuration(parsing: "10s")) ?? PrometheusDuration.zero

    public init(
        scrapeInterval: PrometheusDuration = defaultScrapeInterval, scrapeTimeout: PrometheusDuration = defaultScrapeTimeout,
        evaluationInterval: PrometheusDuration = defaultScrapeInterval, externalLabels: [String: String] = [:],
        discovery: Discovery = .kubernetes, shards: Int = 1, remoteWrite: [Endpoint] = [], alertmanagers: [Endpoint] = [],
        output: Output? = nil, reload: Reload? = nil, podSelector: [String: String] = defaultPodSelector
    ) {
        self.podSelector = podSelector
        self.scrapeInterval = scrapeInterval
        self.scrapeTimeout = scrapeTimeout
        self.evaluationInterval = evaluationInterval
        self.externalLabels = externalLabels
        self.discovery = discovery
        self.shards = shards
        self.remoteWrite = remoteWrite
        self.alertmanagers = alertmanagers
        self.output = output
        self.reload = reload
    }

    private enum CodingKeys: String, CodingKey {
        case scrapeInterval, scrapeTimeout, evaluationInterval, externalLabels, discovery, shards, remoteWrite, alertmanagers, output, reload, podSelector, version
    }

    private enum OutputKeys: String, CodingKey { case configMap, secret, directory }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        scrapeInterval = try container.decodeIfPresent(PrometheusDuration.self, forKey: .scrapeInterval) ?? Self.defaultScrapeInterval
        scrapeTimeout = try container.decodeIfPresent(PrometheusDuration.self, forKey: .scrapeTimeout) ?? Self.defaultScrapeTimeout
        evaluationInterval = try container.decodeIfPresent(PrometheusDuration.self, forKey: .evaluationInterval) ?? scrapeInterval
        externalLabels = try container.decodeIfPresent([String: String].self, forKey: .externalLabels) ?? [:]
        discovery = try container.decodeIfPresent(Discovery.self, forKey: .discovery) ?? .kubernetes
        shards = try container.decodeIfPresent(Int.self, forKey: .shards) ?? 1
        remoteWrite = try container.decodeIfPresent([Endpoint].self, forKey: .remoteWrite) ?? []
        alertmanagers = try container.decodeIfPresent([Endpoint].self, forKey: .alertmanagers) ?? []
        reload = try container.decodeIfPresent(Reload.self, forKey: .reload)
        podSelector = try container.decodeIfPresent([String: String].self, forKey: .podSelector) ?? Self.defaultPodSelector
        version = try container.decodeIfPresent(PrometheusVersion.self, forKey: .version)
        if container.contains(.output) {
            let output = try container.nestedContainer(keyedBy: OutputKeys.self, forKey: .output)
            if let name = try output.decodeIfPresent(String.self, forKey: .configMap) {
                self.output = .configMap(name)
            } else if let name = try output.decodeIfPresent(String.self, forKey: .secret) {
                self.output = .secret(name)
            } else if let path = try output.decodeIfPresent(String.self, forKey: .directory) {
                self.output = .directory(path)
            }
        }
    }
}

/// A Prometheus release, `2.42.0` or `v3.1` (a missing patch is 0).
public struct PrometheusVersion: Sendable, Hashable, Comparable, Decodable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    public init?(parsing text: String) {
        let parts = (text.hasPrefix("v") ? String(text.dropFirst()) : text).split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        let patch = parts.count == 3 ? Int(parts[2].prefix { $0.isNumber }) : 0
        guard let patch else { return nil }
        self.init(major, minor, patch)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let version = PrometheusVersion(parsing: text) else {
            throw NodeDecodingError(path: FieldPath(codingPath: decoder.codingPath), message: "\"\(text)\" is not a Prometheus version; write e.g. 2.53.0 or 3.1.0")
        }
        self = version
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: PrometheusVersion, rhs: PrometheusVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}

/// Grafana delivery settings; used by the dashboards generator.
public struct GrafanaSettings: Sendable, Hashable, Decodable {
    public enum Delivery: String, Sendable, Hashable, Decodable, CaseIterable {
        case configMap, grafanaOperator, directory
    }

    public var datasourceUID: String
    public var delivery: Delivery

    public init(datasourceUID: String = "prometheus", delivery: Delivery = .configMap) {
        self.datasourceUID = datasourceUID
        self.delivery = delivery
    }

    private enum CodingKeys: String, CodingKey { case datasourceUID, delivery }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        datasourceUID = try container.decodeIfPresent(String.self, forKey: .datasourceUID) ?? "prometheus"
        delivery = try container.decodeIfPresent(Delivery.self, forKey: .delivery) ?? .configMap
    }
}

extension PrometheusDuration: Decodable {
    public static let zero = PrometheusDuration(uncheckedMilliseconds: 0, text: "0")

    init(uncheckedMilliseconds: Int, text: String) {
        self.init(text: text, milliseconds: uncheckedMilliseconds)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try PrometheusDuration(parsing: text)
        } catch {
            throw NodeDecodingError(path: FieldPath(codingPath: decoder.codingPath), message: error.description)
        }
    }
}
