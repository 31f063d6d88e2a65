/// A `networking.k8s.io/v1` Ingress: the fields Prometheus's ingress discovery reads, so probes
/// of Ingress hosts resolve the same way under static discovery as under Kubernetes discovery.
public struct Ingress: Sendable, Hashable, Decodable {
    public struct Rule: Sendable, Hashable, Decodable {
        /// Empty or absent: the rule matches every host (a probe of it has no target).
        public var host: String
        /// The paths of the rule's `http` block; nil when the rule has none.
        public var paths: [String]?

        public init(host: String = "", paths: [String]? = nil) {
            self.host = host
            self.paths = paths
        }

        private enum CodingKeys: String, CodingKey { case host, http }
        private enum HTTPKeys: String, CodingKey { case paths }
        private struct Path: Decodable { var path: String? }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            host = try container.decodeIfPresent(String.self, forKey: .host) ?? ""
            if container.contains(.http), try !container.decodeNil(forKey: .http) {
                let http = try container.nestedContainer(keyedBy: HTTPKeys.self, forKey: .http)
                paths = try (http.decodeIfPresent([Path].self, forKey: .paths) ?? []).map { $0.path ?? "" }
            }
        }
    }

    public struct TLS: Sendable, Hashable, Decodable {
        public var hosts: [String]

        public init(hosts: [String] = []) { self.hosts = hosts }

        private enum CodingKeys: String, CodingKey { case hosts }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            hosts = try container.decodeIfPresent([String].self, forKey: .hosts) ?? []
        }
    }

    public var metadata: ObjectMeta
    public var ingressClassName: String?
    public var rules: [Rule]
    public var tls: [TLS]

    public init(metadata: ObjectMeta, ingressClassName: String? = nil, rules: [Rule] = [], tls: [TLS] = []) {
        self.metadata = metadata
        self.ingressClassName = ingressClassName
        self.rules = rules
        self.tls = tls
    }

    private enum CodingKeys: String, CodingKey { case metadata, spec }
    private enum SpecKeys: String, CodingKey { case ingressClassName, rules, tls }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        guard container.contains(.spec) else {
            rules = []
            tls = []
            return
        }
        let spec = try container.nestedContainer(keyedBy: SpecKeys.self, forKey: .spec)
        ingressClassName = try spec.decodeIfPresent(String.self, forKey: .ingressClassName)
        rules = try spec.decodeIfPresent([Rule].self, forKey: .rules) ?? []
        tls = try spec.decodeIfPresent([TLS].self, forKey: .tls) ?? []
    }

    /// Whether a TLS host pattern covers a host: equal, or a `*.` wildcard with the same number
    /// of labels and the rest equal (Prometheus's `matchesHostnamePattern`).
    public static func matches(pattern: String, host: String) -> Bool {
        if pattern == host { return true }
        let patternParts = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let hostParts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard patternParts.first == "*", patternParts.count == hostParts.count else { return false }
        return patternParts.dropFirst().elementsEqual(hostParts.dropFirst())
    }

    /// `https` when a TLS entry covers the host, else `http`.
    public func scheme(of host: String) -> String {
        tls.contains { $0.hosts.contains { Self.matches(pattern: $0, host: host) } } ? "https" : "http"
    }
}
