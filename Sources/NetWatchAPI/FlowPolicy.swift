public import KubeModel

/// `FlowPolicy` (netwatch.dev/v1alpha1, namespaced): NetworkPolicies learned from the traffic
/// observed to and from the workloads it selects in its namespace.
///
/// Decoding checks structure; validation checks the selector, that every source names exactly
/// one kind, ports, URLs and resolver addresses, and that stabilization is positive.
public struct FlowPolicySpec: Sendable, Hashable, Decodable {
    public enum Mode: String, Sendable, Hashable, Decodable, CaseIterable {
        /// Proposals follow the traffic; nothing is applied.
        case observe
        /// Proposals freeze when Stable; later connections they would deny are reported.
        case audit
        /// Frozen proposals are applied (server-side apply); later connections are reported.
        case enforce
    }

    /// Where observed connections come from; exactly one field is set.
    public struct Source: Sendable, Hashable, Decodable {
        /// NetFlow v9 / IPFIX received over UDP on this port.
        public var ipfix: IPFIX?
        /// `hubble observe -o json` records appended to a file (the Hubble exporter's).
        public var hubble: Hubble?
        /// Istio's metrics in a Prometheus.
        public var istio: Istio?

        public struct IPFIX: Sendable, Hashable, Decodable {
            public var port: Int
            public init(port: Int = 4739) { self.port = port }
        }

        public struct Hubble: Sendable, Hashable, Decodable {
            public var path: String
            public init(path: String) { self.path = path }
        }

        public struct Istio: Sendable, Hashable, Decodable {
            public var prometheusURL: String
            /// How far back to look (default: the learning window).
            public var window: PrometheusDuration?
            public init(prometheusURL: String, window: PrometheusDuration? = nil) {
                self.prometheusURL = prometheusURL
                self.window = window
            }
        }

        public init(ipfix: IPFIX? = nil, hubble: Hubble? = nil, istio: Istio? = nil) {
            self.ipfix = ipfix
            self.hubble = hubble
            self.istio = istio
        }
    }

    public struct Learning: Sendable, Hashable, Decodable {
        /// Observation before any proposal can be Stable (default 24h).
        public var window: PrometheusDuration
        /// How long a workload's proposal must stay unchanged after the window (default 10m).
        public var stabilization: PrometheusDuration

        public static let defaultWindow = (try? PrometheusDuration(parsing: "24h")) ?? PrometheusDuration.zero
        public static let defaultStabilization = (try? PrometheusDuration(parsing: "10m")) ?? PrometheusDuration.zero

        public init(window: PrometheusDuration = defaultWindow, stabilization: PrometheusDuration = defaultStabilization) {
            self.window = window
            self.stabilization = stabilization
        }

        private enum CodingKeys: String, CodingKey { case window, stabilization }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            window = try container.decodeIfPresent(PrometheusDuration.self, forKey: .window) ?? Self.defaultWindow
            stabilization = try container.decodeIfPresent(PrometheusDuration.self, forKey: .stabilization) ?? Self.defaultStabilization
        }
    }

    public struct DNS: Sendable, Hashable, Decodable {
        /// Allow DNS (UDP and TCP 53) to kube-dns/CoreDNS pods and `resolvers`, observed or not.
        public var allow: Bool
        /// Extra resolver addresses, e.g. NodeLocal DNS 169.254.20.10.
        public var resolvers: [String]

        public init(allow: Bool = true, resolvers: [String] = []) {
            self.allow = allow
            self.resolvers = resolvers
        }

        private enum CodingKeys: String, CodingKey { case allow, resolvers }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            allow = try container.decodeIfPresent(Bool.self, forKey: .allow) ?? true
            resolvers = try container.decodeIfPresent([String].self, forKey: .resolvers) ?? []
        }
    }

    public struct DefaultDeny: Sendable, Hashable, Decodable {
        public var ingress: Bool
        public var egress: Bool

        public init(ingress: Bool = true, egress: Bool = false) {
            self.ingress = ingress
            self.egress = egress
        }

        private enum CodingKeys: String, CodingKey { case ingress, egress }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            ingress = try container.decodeIfPresent(Bool.self, forKey: .ingress) ?? true
            egress = try container.decodeIfPresent(Bool.self, forKey: .egress) ?? false
        }
    }

    /// Workloads (by their pod template's labels) in the FlowPolicy's namespace that get policies; `{}`: all.
    public var podSelector: LabelSelector
    public var sources: [Source]
    public var learning: Learning
    public var mode: Mode
    public var dns: DNS
    public var defaultDeny: DefaultDeny
    /// In audit and enforce mode, a connection first seen after a workload became Stable widens
    /// its policy (and the workload stabilizes again) instead of only being reported.
    public var widenOnNewConnections: Bool

    public init(podSelector: LabelSelector = LabelSelector(), sources: [Source] = [], learning: Learning = Learning(), mode: Mode = .observe,
                dns: DNS = DNS(), defaultDeny: DefaultDeny = DefaultDeny(), widenOnNewConnections: Bool = false) {
        self.podSelector = podSelector
        self.sources = sources
        self.learning = learning
        self.mode = mode
        self.dns = dns
        self.defaultDeny = defaultDeny
        self.widenOnNewConnections = widenOnNewConnections
    }

    private enum CodingKeys: String, CodingKey { case podSelector, sources, learning, mode, dns, defaultDeny, widenOnNewConnections }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        podSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .podSelector) ?? LabelSelector()
        sources = try container.decodeIfPresent([Source].self, forKey: .sources) ?? []
        learning = try container.decodeIfPresent(Learning.self, forKey: .learning) ?? Learning()
        mode = try container.decodeIfPresent(Mode.self, forKey: .mode) ?? .observe
        dns = try container.decodeIfPresent(DNS.self, forKey: .dns) ?? DNS()
        defaultDeny = try container.decodeIfPresent(DefaultDeny.self, forKey: .defaultDeny) ?? DefaultDeny()
        widenOnNewConnections = try container.decodeIfPresent(Bool.self, forKey: .widenOnNewConnections) ?? false
    }
}

public typealias FlowPolicy = CustomResource<FlowPolicySpec>

extension NetWatchValidation {
    static func problems(in spec: FlowPolicySpec) -> [(String, String)] {
        var problems = spec.podSelector.validate(at: "spec.podSelector")
        for (index, source) in spec.sources.enumerated() {
            let path = "spec.sources[\(index)]"
            let kinds = [source.ipfix != nil, source.hubble != nil, source.istio != nil].filter { $0 }.count
            if kinds != 1 { problems.append((path, "set exactly one of ipfix, hubble or istio (found \(kinds))")) }
            if let ipfix = source.ipfix, !(1...65535).contains(ipfix.port) { problems.append(("\(path).ipfix.port", "must be 1-65535")) }
            if let hubble = source.hubble, !hubble.path.hasPrefix("/") { problems.append(("\(path).hubble.path", "must be an absolute path in netwatch's container")) }
            if let istio = source.istio, !(istio.prometheusURL.hasPrefix("http://") || istio.prometheusURL.hasPrefix("https://")) {
                problems.append(("\(path).istio.prometheusURL", "must be an http:// or https:// URL of a Prometheus"))
            }
        }
        let ports = spec.sources.compactMap(\.ipfix?.port)
        if Set(ports).count != ports.count { problems.append(("spec.sources", "two ipfix sources listen on the same port")) }
        if spec.learning.stabilization.milliseconds <= 0 { problems.append(("spec.learning.stabilization", "must be longer than 0")) }
        for (index, resolver) in spec.dns.resolvers.enumerated() where !isIPAddress(resolver) {
            problems.append(("spec.dns.resolvers[\(index)]", "\"\(resolver)\" is not an IPv4 or IPv6 address"))
        }
        return problems
    }

    static func isIPAddress(_ text: String) -> Bool {
        if text.contains(":") {
            return text.count <= 45 && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } && text.filter { $0 == ":" }.count >= 2
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && (UInt8($0) != nil) }
    }
}
