import KubeModel

/// Semantic checks the schema cannot express. Each problem is (field path, message).
enum NetWatchValidation {
    static func problems(in spec: MonitoringStackSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        let prometheus = spec.prometheus
        if prometheus.scrapeTimeout > prometheus.scrapeInterval {
            problems.append(("spec.prometheus.scrapeTimeout", "\(prometheus.scrapeTimeout) is longer than scrapeInterval \(prometheus.scrapeInterval); Prometheus rejects that"))
        }
        if prometheus.scrapeInterval.milliseconds == 0 {
            problems.append(("spec.prometheus.scrapeInterval", "must be longer than 0"))
        }
        for key in prometheus.externalLabels.keys.sorted() where !PrometheusLabel.isValidName(key) {
            problems.append(("spec.prometheus.externalLabels", "\"\(key)\" is not a valid label name; use [a-zA-Z_][a-zA-Z0-9_]*"))
        }
        if let selector = spec.monitorSelector { problems += selector.validate(at: "spec.monitorSelector") }
        if let selector = spec.monitorNamespaceSelector { problems += selector.problems(at: "spec.monitorNamespaceSelector") }
        switch prometheus.output {
        case .configMap(let name)?, .secret(let name)?:
            // It names the ConfigMap or Secret and, with suffixes up to 13 characters
            // (`-credentials`, `-file-sd-<n>`), the objects beside it.
            let field = "spec.prometheus.output.\(prometheus.output.map { if case .secret = $0 { "secret" } else { "configMap" } } ?? "configMap")"
            if let problem = KubernetesName.subdomainProblem(name) {
                problems.append((field, "\"\(name)\" \(problem): it becomes the name of a Kubernetes object"))
            } else if name.utf8.count > 240 {
                problems.append((field, "\"\(name)\" is longer than 240 characters; the objects netwatch names after it would exceed 253"))
            }
        case .directory(let path)?:
            if path.isEmpty || path.utf8.contains(0) { problems.append(("spec.prometheus.output.directory", "must be a path")) }
        case nil:
            break
        }
        var classNames: Set<String> = []
        for (index, scrapeClass) in spec.scrapeClasses.enumerated() {
            let path = "spec.scrapeClasses[\(index)]"
            if scrapeClass.name.isEmpty { problems.append(("\(path).name", "must not be empty")) }
            if !classNames.insert(scrapeClass.name).inserted { problems.append(("\(path).name", "\"\(scrapeClass.name)\" names two classes")) }
            var security = ScrapeSecurity()
            security.tlsConfig = scrapeClass.tlsConfig
            security.authorization = scrapeClass.authorization
            problems += security.problems(at: path)
            if let tls = scrapeClass.tlsConfig, tls.ca != nil || tls.cert != nil || tls.keySecret != nil {
                problems.append(("\(path).tlsConfig", "a scrape class takes files only (caFile, certFile, keyFile): it belongs to no monitor's namespace"))
            }
            if scrapeClass.authorization?.credentials != nil {
                problems.append(("\(path).authorization.credentials", "a scrape class takes credentialsFile only: it belongs to no monitor's namespace"))
            }
            for (step, relabel) in scrapeClass.relabelings.enumerated() { problems += relabel.problems(at: "\(path).relabelings[\(step)]") }
            for (step, relabel) in scrapeClass.metricRelabelings.enumerated() { problems += relabel.problems(at: "\(path).metricRelabelings[\(step)]") }
        }
        if spec.scrapeClasses.filter(\.isDefault).count > 1 {
            problems.append(("spec.scrapeClasses", "more than one class is default: true; mark at most one"))
        }
        for (index, endpoint) in spec.prometheus.alertmanagers.enumerated() where URLParts(endpoint.url) == nil {
            problems.append(("spec.prometheus.alertmanagers[\(index)].url", "\"\(endpoint.url)\" is not an http(s) URL with a host"))
        }
        return problems
    }

    static func problems(in spec: NetworkMonitorSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        if let selector = spec.selector { problems += selector.validate(at: "spec.selector") }
        if let selector = spec.namespaceSelector { problems += selector.problems(at: "spec.namespaceSelector") }
        for (index, endpoint) in spec.endpoints.enumerated() {
            let path = "spec.endpoints[\(index)]"
            switch endpoint.port {
            case .int(let number) where !(1...65535).contains(number):
                problems.append(("\(path).port", "port \(number) is out of range; use 1-65535 or a port name"))
            case .string(let name) where name.isEmpty || name.count > 15:
                problems.append(("\(path).port", "port name \"\(name)\" must be 1-15 characters (an IANA service name)"))
            default:
                break
            }
            if let interval = endpoint.interval, let timeout = endpoint.scrapeTimeout, timeout > interval {
                problems.append(("\(path).scrapeTimeout", "\(timeout) is longer than interval \(interval); Prometheus rejects that"))
            }
            for (step, relabel) in endpoint.relabelings.enumerated() {
                problems += relabel.problems(at: "\(path).relabelings[\(step)]")
            }
            for (step, relabel) in endpoint.metricRelabelings.enumerated() {
                problems += relabel.problems(at: "\(path).metricRelabelings[\(step)]")
            }
            if let proxy = endpoint.proxyURL, !["http://", "https://", "socks5://"].contains(where: { proxy.hasPrefix($0) && proxy.count > $0.count }) {
                problems.append(("\(path).proxyUrl", "\"\(proxy)\" is not an http, https or socks5 URL"))
            }
            problems += endpoint.security.problems(at: path)
            for key in endpoint.params.keys.sorted() where key.isEmpty {
                problems.append(("\(path).params", "a parameter name is empty"))
            }
        }
        let limits = spec.limits
        for limit in limits.setLimits where limit.value < 0 {
            problems.append(("spec.\(limit.field)", "must not be negative"))
        }
        for (index, name) in limits.scrapeProtocols.enumerated() where !ScrapeLimits.protocols.contains(name) {
            problems.append(("spec.scrapeProtocols[\(index)]", "unknown protocol \"\(name)\"; use one of \(ScrapeLimits.protocols.joined(separator: ", "))"))
        }
        if let size = limits.bodySizeLimit, !ByteSize.isValid(size) {
            problems.append(("spec.bodySizeLimit", "\"\(size)\" is not a byte size; write e.g. 10MB, 512KiB or 0"))
        }
        if let label = spec.jobLabel, LabelSanitizer.sanitize(label).isEmpty {
            problems.append(("spec.jobLabel", "empty label name"))
        }
        for (index, label) in spec.podTargetLabels.enumerated() where LabelSanitizer.sanitize(label).isEmpty {
            problems.append(("spec.podTargetLabels[\(index)]", "empty label name"))
        }
        for (group, targets) in spec.staticTargets.enumerated() {
            for (index, target) in targets.targets.enumerated() {
                if let problem = HostPort.problem(target) {
                    problems.append(("spec.staticTargets[\(group)].targets[\(index)]", problem))
                }
            }
            for key in targets.labels.keys.sorted() where !PrometheusLabel.isValidName(key) {
                problems.append(("spec.staticTargets[\(group)].labels", "\"\(key)\" is not a valid label name; use [a-zA-Z_][a-zA-Z0-9_]*"))
            }
        }
        return problems
    }
}

extension NetWatchValidation {
    /// Structure of custom rule groups: unique non-empty group names, each rule exactly one of
    /// alert or record, valid record, label and annotation names, `for` only on alerts,
    /// balanced template braces, and each expression through the PromQL parser.
    static func problems(in spec: NetworkAlertsSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        var names: [String: Int] = [:]
        for (index, group) in spec.groups.enumerated() {
            let path = "spec.groups[\(index)]"
            if group.name.isEmpty { problems.append(("\(path).name", "must not be empty")) }
            if let first = names[group.name] {
                problems.append(("\(path).name", "\"\(group.name)\" is also the name of spec.groups[\(first)]; Prometheus rejects duplicate group names in a file"))
            } else {
                names[group.name] = index
            }
            if group.rules.isEmpty { problems.append(("\(path).rules", "a group needs at least one rule")) }
            for (ruleIndex, rule) in group.rules.enumerated() {
                let rulePath = "\(path).rules[\(ruleIndex)]"
                switch (rule.alert, rule.record) {
                case (nil, nil): problems.append((rulePath, "set alert (an alerting rule) or record (a recording rule)"))
                case (_?, _?): problems.append((rulePath, "set alert or record, not both"))
                case (let alert?, nil) where alert.isEmpty: problems.append(("\(rulePath).alert", "must not be empty"))
                case (nil, let record?) where !PrometheusLabel.isValidMetricName(record):
                    problems.append(("\(rulePath).record", "\"\(record)\" is not a valid metric name; use [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. level:metric:operations"))
                default: break
                }
                if rule.expr.allSatisfy(\.isWhitespace) {
                    problems.append(("\(rulePath).expr", "must not be empty"))
                } else if let problem = PromQL.check(rule.expr) {
                    problems.append(("\(rulePath).expr", "\(rule.name.isEmpty ? "" : "rule \(rule.name): ")\(problem)"))
                }
                if rule.record != nil, rule.for != nil { problems.append(("\(rulePath).for", "only alerting rules have for")) }
                if rule.record != nil, !rule.annotations.isEmpty { problems.append(("\(rulePath).annotations", "only alerting rules have annotations")) }
                for key in rule.labels.keys.sorted() where !PrometheusLabel.isValidName(key) {
                    problems.append(("\(rulePath).labels", "\"\(key)\" is not a valid label name; use [a-zA-Z_][a-zA-Z0-9_]*"))
                }
                for key in rule.annotations.keys.sorted() {
                    if !PrometheusLabel.isValidName(key) {
                        problems.append(("\(rulePath).annotations", "\"\(key)\" is not a valid annotation name; use [a-zA-Z_][a-zA-Z0-9_]*"))
                    } else if let problem = TemplateBraces.problem(rule.annotations[key] ?? "") {
                        problems.append(("\(rulePath).annotations.\(key)", problem))
                    }
                }
            }
        }
        if let base = spec.runbookBaseURL, URLParts(base) == nil {
            problems.append(("spec.runbookBaseURL", "\"\(base)\" is not an http(s) URL with a host"))
        }
        return problems
    }
}

/// A cheap check of Go template actions in annotations: every `{{` is closed before the next
/// one opens, and no `}}` is left over.
enum TemplateBraces {
    static func problem(_ text: String) -> String? {
        // Bytes, not Characters: braces are ASCII, and UTF-8 never uses ASCII bytes inside
        // another character, so no grapheme breaking is needed to find them.
        var text = text
        var open = false
        let problem: String? = text.withUTF8 { bytes in
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                guard byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") else {
                    index += 1
                    continue
                }
                let doubled = index + 1 < bytes.count && bytes[index + 1] == byte
                if doubled, byte == UInt8(ascii: "{") {
                    if open { return "a template action opens ({{) inside another; close it with }}" }
                    open = true
                } else if doubled {
                    if !open { return "}} closes no template action" }
                    open = false
                }
                index += doubled ? 2 : 1
            }
            return nil
        }
        if let problem { return problem }
        return open ? "a template action ({{) is not closed with }}" : nil
    }
}

/// Label names from Kubernetes (`app.kubernetes.io/name`) made into Prometheus label names the
/// way Prometheus's Kubernetes discovery does: every character outside `[a-zA-Z0-9_]` becomes `_`.
public enum LabelSanitizer {
    /// Prometheus's `strutil.SanitizeLabelName`: every character (Unicode scalar) outside
    /// `[a-zA-Z0-9_]` becomes one `_`.
    public static func sanitize(_ name: String) -> String {
        // Most names (`app`, `tier`) are valid already: no new string.
        if name.utf8.allSatisfy(isLabelByte) { return name }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        for byte in name.utf8 {
            if isLabelByte(byte) {
                bytes.append(byte)
            } else if byte < 0x80 || byte >= 0xC0 {
                // An ASCII byte or the first byte of a multi-byte scalar; the scalar's
                // continuation bytes (0x80-0xBF) add nothing more.
                bytes.append(UInt8(ascii: "_"))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @inline(__always)
    static func isLabelByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }
}

/// `host:port` as Prometheus targets are written.
public enum HostPort {
    public static func problem(_ target: String) -> String? {
        let host: Substring
        let port: Substring
        if target.hasPrefix("[") {
            guard let close = target.firstIndex(of: "]"), target[target.index(after: close)...].hasPrefix(":") else {
                return "\"\(target)\" is not host:port; write IPv6 addresses as [::1]:9100"
            }
            host = target[target.index(after: target.startIndex)..<close]
            port = target[target.index(close, offsetBy: 2)...]
        } else {
            guard let colon = target.lastIndex(of: ":") else { return "\"\(target)\" has no port; write host:port, e.g. 192.168.1.10:9100" }
            host = target[..<colon]
            port = target[target.index(after: colon)...]
            if host.contains(":") { return "\"\(target)\" is not host:port; write IPv6 addresses as [::1]:9100" }
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { return "\"\(target)\" has no valid host" }
        guard let number = Int(port), (1...65535).contains(number) else {
            return "\"\(target)\" has an invalid port; use 1-65535"
        }
        return nil
    }
}

/// The parts of an http(s) URL Prometheus's config needs.
public struct URLParts: Sendable, Hashable {
    public var scheme: String
    public var host: String
    public var path: String

    public init?(_ url: String) {
        let schemes = ["http://", "https://"]
        guard let prefix = schemes.first(where: url.hasPrefix) else { return nil }
        scheme = String(prefix.dropLast(3))
        let rest = url.dropFirst(prefix.count)
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        host = String(rest[..<hostEnd])
        path = String(rest[hostEnd...])
        guard !host.isEmpty, !host.contains("@") else { return nil }
    }
}

/// Prometheus byte sizes (`units.Base2Bytes`): a number and a unit among B, KB, MB, GB, TB, PB,
/// EB and their `iB` forms, or 0.
public enum ByteSize {
    public static func isValid(_ text: String) -> Bool {
        if text == "0" { return true }
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return false }
        let unit = text.dropFirst(digits.count)
        return ["B", "KB", "MB", "GB", "TB", "PB", "EB", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"].contains(String(unit))
    }
}

extension NetWatchValidation {
    static func problems(in spec: NetworkProbeSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        switch (spec.prober.url, spec.prober.service) {
        case (nil, nil), (.some, .some):
            problems.append(("spec.prober", "set exactly one of url or service"))
        case (let url?, nil) where url.contains("://"):
            problems.append(("spec.prober.url", "\"\(url)\" has a scheme; write host:port and set prober.scheme"))
        default:
            break
        }
        if let interval = spec.interval, let timeout = spec.scrapeTimeout, timeout > interval {
            problems.append(("spec.scrapeTimeout", "\(timeout) is longer than interval \(interval); Prometheus rejects that"))
        }
        func regexes(_ list: [String], at path: String) {
            for (index, regex) in list.enumerated() {
                if let problem = RE2Syntax.check(regex) { problems.append(("\(path)[\(index)]", problem)) }
            }
        }
        switch spec.module {
        case .http(let http):
            regexes(http.bodyMustMatch, at: "spec.module.http.bodyMustMatch")
            regexes(http.bodyMustNotMatch, at: "spec.module.http.bodyMustNotMatch")
        case .dns(let dns):
            if dns.queryName.isEmpty { problems.append(("spec.module.dns.queryName", "must not be empty")) }
            regexes(dns.answerMustMatch, at: "spec.module.dns.answerMustMatch")
        case .tcp(let tcp):
            if let expect = tcp.expect { regexes([expect], at: "spec.module.tcp.expect") }
        case .icmp, .tls:
            break
        }
        if spec.targets.isEmpty {
            problems.append(("spec.targets", "names nothing to probe; add static hosts or a services, ingresses or pods selector"))
        }
        for (index, host) in spec.targets.static.enumerated() where host.isEmpty || host.contains(where: \.isWhitespace) {
            problems.append(("spec.targets.static[\(index)]", "\"\(host)\" is not a host, host:port or URL"))
        }
        if let services = spec.targets.services {
            problems += services.selector.validate(at: "spec.targets.services.selector")
            if let selector = services.namespaceSelector { problems += selector.problems(at: "spec.targets.services.namespaceSelector") }
        }
        if let ingresses = spec.targets.ingresses {
            problems += ingresses.selector.validate(at: "spec.targets.ingresses.selector")
            if let selector = ingresses.namespaceSelector { problems += selector.problems(at: "spec.targets.ingresses.namespaceSelector") }
            if case .dns = spec.module {
                problems.append(("spec.targets.ingresses", "a dns probe's target is a resolver, not an Ingress host; list resolvers under static"))
            }
            if ingresses.port != nil {
                problems.append(("spec.targets.ingresses.port", "an Ingress target's port follows its scheme (80 or 443); remove port"))
            }
        }
        if let pods = spec.targets.pods {
            problems += pods.selector.validate(at: "spec.targets.pods.selector")
            if let selector = pods.namespaceSelector { problems += selector.problems(at: "spec.targets.pods.namespaceSelector") }
            if case .icmp = spec.module {} else if pods.port == nil {
                problems.append(("spec.targets.pods.port", "required for a \(spec.module.kind) probe: name or number the container port to probe"))
            }
        }
        return problems
    }
}
