public import KubeModel
import DataTree

/// `NetworkProbe` (netwatch.dev/v1alpha1): synthetic checks run by a blackbox_exporter — can
/// these hosts and Services be reached, how fast, with which answer. netwatch renders both
/// sides: the Prometheus job that asks the prober (as prometheus-operator's `Probe` does) and
/// the prober's module in the stack's `blackbox.yml`, so nobody writes that file by hand.
public struct NetworkProbeSpec: Sendable, Hashable, Decodable {
    /// Which blackbox_exporter runs the probe.
    public var prober: Prober
    /// How to probe: exactly one of its kinds.
    public var module: Module
    /// What to probe.
    public var targets: Targets
    public var interval: PrometheusDuration?
    public var scrapeTimeout: PrometheusDuration?
    /// Labels on every target of the probe.
    public var labels: [String: String]

    public init(prober: Prober, module: Module, targets: Targets, interval: PrometheusDuration? = nil, scrapeTimeout: PrometheusDuration? = nil,
                labels: [String: String] = [:]) {
        self.prober = prober
        self.module = module
        self.targets = targets
        self.interval = interval
        self.scrapeTimeout = scrapeTimeout
        self.labels = labels
    }

    private enum CodingKeys: String, CodingKey { case prober, module, targets, interval, scrapeTimeout, labels }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prober = try container.decode(Prober.self, forKey: .prober)
        module = try container.decode(Module.self, forKey: .module)
        targets = try container.decode(Targets.self, forKey: .targets)
        interval = try container.decodeIfPresent(PrometheusDuration.self, forKey: .interval)
        scrapeTimeout = try container.decodeIfPresent(PrometheusDuration.self, forKey: .scrapeTimeout)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }

    /// A blackbox_exporter: its address, or a Service in front of it.
    public struct Prober: Sendable, Hashable, Decodable {
        /// `host:port`, no scheme (as prometheus-operator's `prober.url`).
        public var url: String?
        public var service: ServiceAddress?
        public var scheme: String
        public var path: String

        public init(url: String? = nil, service: ServiceAddress? = nil, scheme: String = "http", path: String = "/probe") {
            self.url = url
            self.service = service
            self.scheme = scheme
            self.path = path
        }

        private enum CodingKeys: String, CodingKey { case url, service, scheme, path }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            url = try container.decodeIfPresent(String.self, forKey: .url)
            service = try container.decodeIfPresent(ServiceAddress.self, forKey: .service)
            scheme = try container.decodeIfPresent(String.self, forKey: .scheme) ?? "http"
            path = try container.decodeIfPresent(String.self, forKey: .path) ?? "/probe"
        }
    }

    /// A Service port, addressed by its cluster DNS name.
    public struct ServiceAddress: Sendable, Hashable, Decodable {
        public var name: String
        /// Default: the probe's namespace.
        public var namespace: String?
        public var port: Int

        public init(name: String, namespace: String? = nil, port: Int) {
            self.name = name
            self.namespace = namespace
            self.port = port
        }
    }

    /// How a target is probed; blackbox_exporter's prober and its options.
    public enum Module: Sendable, Hashable, Decodable {
        case icmp(ICMP)
        case tcp(TCP)
        case http(HTTP)
        case dns(DNS)
        /// A TLS handshake over TCP, for the certificate (`probe_ssl_earliest_cert_expiry`).
        case tls(TLS)

        private enum CodingKeys: String, CodingKey, CaseIterable { case icmp, tcp, http, dns, tls }

        /// The module's field names, for messages.
        public static let kinds = CodingKeys.allCases.map(\.rawValue)

        /// This module's field name.
        public var kind: String {
            switch self {
            case .icmp: "icmp"
            case .tcp: "tcp"
            case .http: "http"
            case .dns: "dns"
            case .tls: "tls"
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let present = CodingKeys.allCases.filter { container.contains($0) }
            guard present.count == 1, let kind = present.first else {
                let path = FieldPath(decoder.codingPath.map { $0.intValue.map(FieldPath.Component.index) ?? .key($0.stringValue) })
                throw NodeDecodingError(path: path,
                    message: "set exactly one of \(Self.kinds.joined(separator: ", ")) (found \(present.isEmpty ? "none" : present.map(\.rawValue).joined(separator: ", ")))")
            }
            switch kind {
            case .icmp: self = .icmp(try container.decode(ICMP.self, forKey: kind))
            case .tcp: self = .tcp(try container.decode(TCP.self, forKey: kind))
            case .http: self = .http(try container.decode(HTTP.self, forKey: kind))
            case .dns: self = .dns(try container.decode(DNS.self, forKey: kind))
            case .tls: self = .tls(try container.decode(TLS.self, forKey: kind))
            }
        }
    }

    /// `ip4` or `ip6`: which address family a name resolves to first (netwatch's default is
    /// `ip4`; blackbox_exporter's own is `ip6`), falling back to the other.
    public static let ipProtocols = ["ip4", "ip6"]

    public struct ICMP: Sendable, Hashable, Decodable {
        public var ipProtocol: String?
        public init(ipProtocol: String? = nil) { self.ipProtocol = ipProtocol }
    }

    public struct TCP: Sendable, Hashable, Decodable {
        public var ipProtocol: String?
        /// Send this, then expect a line matching `expect` (a query/response exchange).
        public var send: String?
        public var expect: String?
        public init(ipProtocol: String? = nil, send: String? = nil, expect: String? = nil) {
            self.ipProtocol = ipProtocol
            self.send = send
            self.expect = expect
        }
    }

    public struct HTTP: Sendable, Hashable, Decodable {
        public var method: String
        /// Accepted status codes; empty: any 2xx.
        public var validStatusCodes: [Int]
        public var headers: [String: String]
        /// RE2 regexes the body must match (each) and must not match (any).
        public var bodyMustMatch: [String]
        public var bodyMustNotMatch: [String]
        public var followRedirects: Bool
        /// Fail unless the final response came over TLS.
        public var requireTLS: Bool
        public var insecureSkipVerify: Bool
        public var ipProtocol: String?

        public init(method: String = "GET", validStatusCodes: [Int] = [], headers: [String: String] = [:], bodyMustMatch: [String] = [], bodyMustNotMatch: [String] = [],
                    followRedirects: Bool = true, requireTLS: Bool = false, insecureSkipVerify: Bool = false, ipProtocol: String? = nil) {
            self.method = method
            self.validStatusCodes = validStatusCodes
            self.headers = headers
            self.bodyMustMatch = bodyMustMatch
            self.bodyMustNotMatch = bodyMustNotMatch
            self.followRedirects = followRedirects
            self.requireTLS = requireTLS
            self.insecureSkipVerify = insecureSkipVerify
            self.ipProtocol = ipProtocol
        }

        private enum CodingKeys: String, CodingKey {
            case method, validStatusCodes, headers, bodyMustMatch, bodyMustNotMatch, followRedirects, requireTLS, insecureSkipVerify, ipProtocol
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            method = try container.decodeIfPresent(String.self, forKey: .method) ?? "GET"
            validStatusCodes = try container.decodeIfPresent([Int].self, forKey: .validStatusCodes) ?? []
            headers = try container.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
            bodyMustMatch = try container.decodeIfPresent([String].self, forKey: .bodyMustMatch) ?? []
            bodyMustNotMatch = try container.decodeIfPresent([String].self, forKey: .bodyMustNotMatch) ?? []
            followRedirects = try container.decodeIfPresent(Bool.self, forKey: .followRedirects) ?? true
            requireTLS = try container.decodeIfPresent(Bool.self, forKey: .requireTLS) ?? false
            insecureSkipVerify = try container.decodeIfPresent(Bool.self, forKey: .insecureSkipVerify) ?? false
            ipProtocol = try container.decodeIfPresent(String.self, forKey: .ipProtocol)
        }
    }

    public struct DNS: Sendable, Hashable, Decodable {
        /// The name asked for (required): the target is the resolver.
        public var queryName: String
        public var queryType: String
        /// Accepted response codes (default NOERROR).
        public var validRcodes: [String]
        /// RE2 regexes of which at least one answer record must match each (e.g. the expected address).
        public var answerMustMatch: [String]
        /// `udp` (default) or `tcp`.
        public var transport: String
        public var ipProtocol: String?

        public static let queryTypes = ["A", "AAAA", "ANY", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT"]
        public static let rcodes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]

        public init(queryName: String, queryType: String = "A", validRcodes: [String] = ["NOERROR"], answerMustMatch: [String] = [], transport: String = "udp", ipProtocol: String? = nil) {
            self.queryName = queryName
            self.queryType = queryType
            self.validRcodes = validRcodes
            self.answerMustMatch = answerMustMatch
            self.transport = transport
            self.ipProtocol = ipProtocol
        }

        private enum CodingKeys: String, CodingKey { case queryName, queryType, validRcodes, answerMustMatch, transport, ipProtocol }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            queryName = try container.decode(String.self, forKey: .queryName)
            queryType = try container.decodeIfPresent(String.self, forKey: .queryType) ?? "A"
            validRcodes = try container.decodeIfPresent([String].self, forKey: .validRcodes) ?? ["NOERROR"]
            answerMustMatch = try container.decodeIfPresent([String].self, forKey: .answerMustMatch) ?? []
            transport = try container.decodeIfPresent(String.self, forKey: .transport) ?? "udp"
            ipProtocol = try container.decodeIfPresent(String.self, forKey: .ipProtocol)
        }
    }

    public struct TLS: Sendable, Hashable, Decodable {
        /// The name the certificate must carry (default: the target's host).
        public var serverName: String?
        public var insecureSkipVerify: Bool
        public var ipProtocol: String?

        public init(serverName: String? = nil, insecureSkipVerify: Bool = false, ipProtocol: String? = nil) {
            self.serverName = serverName
            self.insecureSkipVerify = insecureSkipVerify
            self.ipProtocol = ipProtocol
        }

        private enum CodingKeys: String, CodingKey { case serverName, insecureSkipVerify, ipProtocol }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            serverName = try container.decodeIfPresent(String.self, forKey: .serverName)
            insecureSkipVerify = try container.decodeIfPresent(Bool.self, forKey: .insecureSkipVerify) ?? false
            ipProtocol = try container.decodeIfPresent(String.self, forKey: .ipProtocol)
        }
    }

    /// What to probe: hosts as written, Services, Ingress hosts and pods found by label.
    public struct Targets: Sendable, Hashable, Decodable {
        /// Hosts as the module takes them: `host` (icmp), `host:port` (tcp, tls), a URL (http),
        /// a resolver `host[:port]` (dns).
        public var `static`: [String]
        public var services: SelectedTargets?
        public var ingresses: SelectedTargets?
        public var pods: SelectedTargets?

        public init(static hosts: [String] = [], services: SelectedTargets? = nil, ingresses: SelectedTargets? = nil, pods: SelectedTargets? = nil) {
            self.static = hosts
            self.services = services
            self.ingresses = ingresses
            self.pods = pods
        }

        private enum CodingKeys: String, CodingKey { case `static`, services, ingresses, pods }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.static = try container.decodeIfPresent([String].self, forKey: .static) ?? []
            services = try container.decodeIfPresent(SelectedTargets.self, forKey: .services)
            ingresses = try container.decodeIfPresent(SelectedTargets.self, forKey: .ingresses)
            pods = try container.decodeIfPresent(SelectedTargets.self, forKey: .pods)
        }

        /// Whether anything is named at all (a selector may still match nothing today).
        public var isEmpty: Bool { self.static.isEmpty && services == nil && ingresses == nil && pods == nil }
    }

    /// Objects by label, in the probe's namespace unless `namespaceSelector` says otherwise.
    ///
    /// - Services: each port, or the one `port` names or numbers, at the cluster DNS name.
    /// - Ingresses: each rule's host and path, found by Prometheus's Ingress discovery (as
    ///   prometheus-operator's Probe `targets.ingress`); `port` does not apply.
    /// - Pods: each running pod's address on the container port `port` names or numbers,
    ///   found by Prometheus's pod discovery (required except for ICMP, which probes the IP).
    public struct SelectedTargets: Sendable, Hashable, Decodable {
        public var selector: LabelSelector
        public var namespaceSelector: NamespaceSelector?
        public var port: IntOrString?

        public init(selector: LabelSelector, namespaceSelector: NamespaceSelector? = nil, port: IntOrString? = nil) {
            self.selector = selector
            self.namespaceSelector = namespaceSelector
            self.port = port
        }
    }
}

public typealias NetworkProbe = CustomResource<NetworkProbeSpec>
