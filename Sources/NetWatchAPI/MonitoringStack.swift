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
    public var grafana: GrafanaSettings

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
        case prometheus, monitorSelector, monitorNamespaceSelector, alertSelector, dashboardSelector, grafana
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prometheus = try container.decodeIfPresent(PrometheusSettings.self, forKey: .prometheus) ?? PrometheusSettings()
        monitorSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .monitorSelector)
        monitorNamespaceSelector = try container.decodeIfPresent(NamespaceSelector.self, forKey: .monitorNamespaceSelector)
        alertSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .alertSelector)
        dashboardSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .dashboardSelector)
        grafana = try container.decodeIfPresent(GrafanaSettings.self, forKey: .grafana) ?? GrafanaSettings()
    }
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
        case scrapeInterval, scrapeTimeout, evaluationInterval, externalLabels, discovery, shards, remoteWrite, alertmanagers, output, reload, podSelector
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
