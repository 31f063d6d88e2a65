import DataTree
import NetWatchAPI

/// blackbox_exporter's configuration for a stack's probes: one module per NetworkProbe, named
/// `<namespace>_<name>`, in name order, with only keys blackbox_exporter 0.23 and later know
/// (its loader rejects unknown keys). Names are resolved to IPv4 first unless the probe says
/// otherwise (blackbox_exporter's own default is IPv6 first).
enum BlackboxModules {
    static let fileName = "blackbox.yml"

    static func file(_ modules: [(name: String, probe: NetworkProbe)]) -> Node {
        var all = Mapping()
        for (name, probe) in modules.sorted(by: { $0.name < $1.name }) {
            all.appendUnchecked(name, module(probe.spec))
        }
        return ["modules": .mapping(all)]
    }

    static func module(_ spec: NetworkProbeSpec) -> Node {
        var module = Mapping()
        func family(_ ipProtocol: String?) -> Node { .string(ipProtocol ?? "ip4") }
        func tls(insecure: Bool, serverName: String? = nil) -> Node? {
            var config = Mapping()
            if let serverName { config["server_name"] = .string(serverName) }
            if insecure { config["insecure_skip_verify"] = true }
            return config.isEmpty ? nil : .mapping(config)
        }
        switch spec.module {
        case .icmp(let icmp):
            module["prober"] = "icmp"
            timeout(spec, &module)
            module["icmp"] = ["preferred_ip_protocol": family(icmp.ipProtocol)]
        case .tcp(let tcp):
            module["prober"] = "tcp"
            timeout(spec, &module)
            var settings = Mapping([("preferred_ip_protocol", family(tcp.ipProtocol))])
            var exchange: [Node] = []
            if let send = tcp.send { exchange.append(["send": .string(send)]) }
            if let expect = tcp.expect { exchange.append(["expect": .string(expect)]) }
            if !exchange.isEmpty { settings["query_response"] = .sequence(exchange) }
            module["tcp"] = .mapping(settings)
        case .tls(let options):
            module["prober"] = "tcp"
            timeout(spec, &module)
            var settings = Mapping([("preferred_ip_protocol", family(options.ipProtocol)), ("tls", true)])
            if let config = tls(insecure: options.insecureSkipVerify, serverName: options.serverName) { settings["tls_config"] = config }
            module["tcp"] = .mapping(settings)
        case .http(let http):
            module["prober"] = "http"
            timeout(spec, &module)
            var settings = Mapping([("preferred_ip_protocol", family(http.ipProtocol)), ("method", .string(http.method))])
            if !http.validStatusCodes.isEmpty { settings["valid_status_codes"] = .sequence(http.validStatusCodes.map { .int($0) }) }
            if !http.headers.isEmpty { settings["headers"] = .sortedStringMap(http.headers) }
            if !http.bodyMustMatch.isEmpty { settings["fail_if_body_not_matches_regexp"] = .strings(http.bodyMustMatch) }
            if !http.bodyMustNotMatch.isEmpty { settings["fail_if_body_matches_regexp"] = .strings(http.bodyMustNotMatch) }
            if http.requireTLS { settings["fail_if_not_ssl"] = true }
            if !http.followRedirects { settings["follow_redirects"] = false }
            if let config = tls(insecure: http.insecureSkipVerify) { settings["tls_config"] = config }
            module["http"] = .mapping(settings)
        case .dns(let dns):
            module["prober"] = "dns"
            timeout(spec, &module)
            var settings = Mapping([
                ("preferred_ip_protocol", family(dns.ipProtocol)), ("transport_protocol", .string(dns.transport)),
                ("query_name", .string(dns.queryName)), ("query_type", .string(dns.queryType)), ("valid_rcodes", .strings(dns.validRcodes)),
            ])
            if !dns.answerMustMatch.isEmpty { settings["validate_answer_rrs"] = ["fail_if_none_matches_regexp": .strings(dns.answerMustMatch)] }
            module["dns"] = .mapping(settings)
        }
        return .mapping(module)
    }

    /// The probe's own timeout, when it sets one (blackbox_exporter otherwise takes the
    /// scrape timeout Prometheus sends, less half a second).
    private static func timeout(_ spec: NetworkProbeSpec, _ module: inout Mapping) {
        if let timeout = spec.scrapeTimeout { module["timeout"] = .string(timeout.text) }
    }
}
