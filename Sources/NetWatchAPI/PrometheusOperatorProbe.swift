public import KubeModel
import DataTree

/// prometheus-operator's monitoring.coreos.com/v1 `Probe`, read so a cluster that already
/// has them is probed by netwatch without rewriting them. It names a module of the user's own
/// blackbox_exporter configuration (netwatch writes modules for NetworkProbes only) and is
/// rendered as prometheus-operator's `generateProbeConfig` renders it.
///
/// Static and Ingress targets are supported (`staticConfig` wins when both are set, as in
/// prometheus-operator), and the prober's TLS and authentication; fields netwatch does not
/// implement (proxy, scrape classes) are warnings naming the field and left out. A Probe
/// without targets renders a job without targets, as prometheus-operator's does.
public struct PrometheusOperatorProbeSpec: Sendable, Hashable, Decodable {
    public struct Prober: Sendable, Hashable, Decodable {
        /// `host[:port]`, no scheme.
        public var url: String
        public var scheme: String?
        /// The CRD's default is `/probe` (the API server stores it).
        public var path: String

        private enum CodingKeys: String, CodingKey { case url, scheme, path }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Required by the CRD; prometheus-operator renders an empty address without it.
            url = try container.decodeIfPresent(String.self, forKey: .url) ?? ""
            scheme = try container.decodeIfPresent(String.self, forKey: .scheme)
            path = try container.decodeIfPresent(String.self, forKey: .path) ?? "/probe"
        }
    }

    public struct StaticConfig: Sendable, Hashable, Decodable {
        public var targets: [String]
        public var labels: [String: String]
        public var relabelings: [RelabelConfig]

        private enum CodingKeys: String, CodingKey { case `static`, labels, relabelingConfigs }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            targets = try container.decodeIfPresent([String].self, forKey: .static) ?? []
            labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
            relabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .relabelingConfigs) ?? []
        }
    }

    /// Ingresses by label; `namespaceSelector` absent: the Probe's namespace.
    public struct Ingress: Sendable, Hashable, Decodable {
        public var selector: LabelSelector
        public var namespaceSelector: NamespaceSelector?
        public var relabelings: [RelabelConfig]

        private enum CodingKeys: String, CodingKey { case selector, namespaceSelector, relabelingConfigs }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            selector = try container.decodeIfPresent(LabelSelector.self, forKey: .selector) ?? LabelSelector()
            namespaceSelector = try container.decodeIfPresent(NamespaceSelector.self, forKey: .namespaceSelector)
            relabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .relabelingConfigs) ?? []
        }
    }

    public struct Param: Sendable, Hashable, Decodable {
        public var name: String
        public var values: [String]

        private enum CodingKeys: String, CodingKey { case name, values }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            values = try container.decodeIfPresent([String].self, forKey: .values) ?? []
        }
    }

    /// Replaces `job` (the job name stays `probe/<namespace>/<name>`).
    public var jobName: String?
    public var prober: Prober
    /// A module of the prober's own configuration.
    public var module: String?
    public var staticConfig: StaticConfig?
    /// Used only without `staticConfig`.
    public var ingress: Ingress?
    /// How Prometheus reaches the prober: TLS, authorization, basic auth, OAuth2, bearer token.
    public var security: ScrapeSecurity
    public var interval: PrometheusDuration?
    public var scrapeTimeout: PrometheusDuration?
    public var params: [Param]
    public var metricRelabelings: [RelabelConfig]
    public var limits: ScrapeLimits

    private enum CodingKeys: String, CodingKey { case jobName, prober, module, targets, interval, scrapeTimeout, params, metricRelabelings }
    private enum TargetKeys: String, CodingKey { case staticConfig, ingress }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        jobName = try container.decodeIfPresent(String.self, forKey: .jobName)
        prober = try container.decode(Prober.self, forKey: .prober)
        module = try container.decodeIfPresent(String.self, forKey: .module)
        if container.contains(.targets) {
            let targets = try container.nestedContainer(keyedBy: TargetKeys.self, forKey: .targets)
            staticConfig = try targets.decodeIfPresent(StaticConfig.self, forKey: .staticConfig)
            ingress = try targets.decodeIfPresent(Ingress.self, forKey: .ingress)
        }
        security = try ScrapeSecurity(from: decoder)
        interval = try container.decodeIfPresent(PrometheusDuration.self, forKey: .interval)
        scrapeTimeout = try container.decodeIfPresent(PrometheusDuration.self, forKey: .scrapeTimeout)
        params = try container.decodeIfPresent([Param].self, forKey: .params) ?? []
        metricRelabelings = try container.decodeIfPresent([RelabelConfig].self, forKey: .metricRelabelings) ?? []
        limits = try ScrapeLimits(from: decoder)
    }

    /// Spec keys netwatch renders; any other is a warning.
    static let supportedKeys: Set<String> = PrometheusOperatorKind.limitKeys.union([
        "jobName", "prober", "module", "targets", "interval", "scrapeTimeout", "params", "metricRelabelings",
        "tlsConfig", "authorization", "basicAuth", "oauth2", "bearerTokenSecret",
    ])

    /// Decodes a Probe's spec, reporting unsupported fields as warnings and problems as errors.
    static func decode(_ raw: RawObject, spec: Mapping, report: (Diagnostic.Severity, String?, String) -> Void) -> PrometheusOperatorProbe? {
        if case .mapping(let targets)? = spec["targets"] {
            for entry in targets where entry.key != "staticConfig" && entry.key != "ingress" {
                report(.warning, "spec.targets.\(entry.key)", "not supported by netwatch; ignored")
            }
        }
        let decoded: PrometheusOperatorProbeSpec
        do throws(NodeDecodingError) {
            decoded = try NodeDecoder().decode(PrometheusOperatorProbeSpec.self, from: .mapping(spec), at: FieldPath(dotted: "spec"))
        } catch {
            report(.error, error.path.description, error.message)
            return nil
        }
        var failed = false
        if decoded.prober.url.contains("://") {
            report(.error, "spec.prober.url", "\"\(decoded.prober.url)\" has a scheme; prometheus-operator takes host:port and prober.scheme")
            failed = true
        }
        for (index, relabel) in (decoded.staticConfig?.relabelings ?? []).enumerated() {
            for (field, message) in relabel.problems(at: "spec.targets.staticConfig.relabelingConfigs[\(index)]") {
                report(.error, field, message)
                failed = true
            }
        }
        for (index, relabel) in (decoded.staticConfig == nil ? decoded.ingress?.relabelings ?? [] : []).enumerated() {
            for (field, message) in relabel.problems(at: "spec.targets.ingress.relabelingConfigs[\(index)]") {
                report(.error, field, message)
                failed = true
            }
        }
        if decoded.staticConfig == nil, let ingress = decoded.ingress {
            for (field, message) in ingress.selector.validate(at: "spec.targets.ingress.selector") {
                report(.error, field, message)
                failed = true
            }
        }
        for (field, message) in decoded.security.problems(at: "spec") {
            report(.error, field, message)
            failed = true
        }
        for (index, relabel) in decoded.metricRelabelings.enumerated() {
            for (field, message) in relabel.problems(at: "spec.metricRelabelings[\(index)]") {
                report(.error, field, message)
                failed = true
            }
        }
        guard !failed else { return nil }
        var metadata = raw.metadata
        if metadata.namespace == nil { metadata.namespace = "default" }
        return PrometheusOperatorProbe(metadata: metadata, spec: decoded, source: raw.source)
    }
}

public typealias PrometheusOperatorProbe = CustomResource<PrometheusOperatorProbeSpec>
