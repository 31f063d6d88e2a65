import DataTree
public import KubeModel

/// A prometheus-operator ServiceMonitor as netwatch reads it: the Services to scrape (by label)
/// and, per endpoint, the Service port (by name) or the pods' target port.
public struct ServiceMonitorSpec: Sendable, Hashable {
    /// Which port of the selected Services' endpoints an endpoint scrapes.
    public enum PortChoice: Sendable, Hashable {
        /// A named Service port (`port:`).
        case servicePort(String)
        /// The pods' container port, by name or number (`targetPort:`).
        case targetPort(IntOrString)
        /// Neither: every port of the endpoints (and the pods' other container ports).
        case allPorts
    }

    /// Which Kubernetes discovery role finds the endpoints (`serviceDiscoveryRole`).
    public enum DiscoveryRole: String, Sendable, Hashable {
        case endpoints
        case endpointSlice = "endpointslice"

        /// The `__meta_kubernetes_<prefix>_…` label prefix of the role's own labels.
        public var labelPrefix: String { self == .endpoints ? "endpoint" : "endpointslice" }
    }

    public struct Endpoint: Sendable, Hashable {
        public var port: PortChoice
        /// path, scheme, interval, timeout, honorLabels and relabelings, as for NetworkMonitors.
        public var scrape: NetworkMonitorSpec.Endpoint
    }

    public var selector: LabelSelector
    public var namespaceSelector: NamespaceSelector?
    public var endpoints: [Endpoint]
    /// Service labels copied onto every target.
    public var targetLabels: [String]
    public var podTargetLabels: [String]
    /// The Service label whose value becomes `job` (default: the Service name).
    public var jobLabel: String?
    public var limits: ScrapeLimits = ScrapeLimits()
    public var attachNodeMetadata = false
    public var discoveryRole: DiscoveryRole = .endpointSlice
    public var scrapeClass: String?
}

public typealias ServiceMonitor = CustomResource<ServiceMonitorSpec>

/// prometheus-operator's monitoring.coreos.com/v1 PodMonitor and ServiceMonitor, read so a
/// cluster that already has them is scraped by netwatch without rewriting them.
///
/// A PodMonitor becomes a `NetworkMonitor` (same selection and relabeling semantics; netwatch
/// derived them from prometheus-operator's). Fields netwatch does not implement (TLS, auth,
/// params, limits, ...) are reported as warnings naming the field and left out: the target is
/// still scraped, without them. Anything malformed is an error for that object only.
public enum PrometheusOperatorKind: String, Sendable, CaseIterable {
    case podMonitor = "PodMonitor"
    case serviceMonitor = "ServiceMonitor"
    case prometheusRule = "PrometheusRule"
    case probe = "Probe"

    public static let group = "monitoring.coreos.com"
    public static let version = "v1"
    public static let apiVersion = "\(group)/\(version)"

    public var plural: String {
        switch self {
        case .podMonitor: "podmonitors"
        case .serviceMonitor: "servicemonitors"
        case .prometheusRule: "prometheusrules"
        case .probe: "probes"
        }
    }

    var endpointsKey: String { self == .podMonitor ? "podMetricsEndpoints" : "endpoints" }
    static let limitKeys: Set<String> = [
        "sampleLimit", "targetLimit", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit", "keepDroppedTargets", "bodySizeLimit", "scrapeProtocols",
    ]
    var supportedSpecKeys: Set<String> {
        switch self {
        // selectorMechanism only says where prometheus-operator selects (relabelling or the
        // discovery's server-side selectors); netwatch always relabels, with the same targets.
        case .podMonitor:
            Self.limitKeys.union(["selector", "selectorMechanism", "namespaceSelector", "podMetricsEndpoints", "podTargetLabels", "jobLabel", "attachMetadata", "scrapeClass"])
        case .serviceMonitor:
            Self.limitKeys.union(["selector", "selectorMechanism", "namespaceSelector", "endpoints", "podTargetLabels", "targetLabels", "jobLabel",
                                  "attachMetadata", "serviceDiscoveryRole", "scrapeClass"])
        case .prometheusRule: ["groups"]
        case .probe: PrometheusOperatorProbeSpec.supportedKeys
        }
    }

    static let supportedEndpointKeys: Set<String> = [
        "port", "portNumber", "targetPort", "path", "scheme", "interval", "scrapeTimeout", "honorLabels", "relabelings", "metricRelabelings",
        "honorTimestamps", "trackTimestampsStaleness", "filterRunning", "params", "proxyUrl", "followRedirects", "enableHttp2",
        "tlsConfig", "authorization", "basicAuth", "oauth2", "bearerTokenSecret", "bearerTokenFile",
    ]

    public enum Resource: Sendable, Hashable {
        case podMonitor(NetworkMonitor)
        case serviceMonitor(ServiceMonitor)
        /// Custom groups only, in the NetworkAlerts shape.
        case prometheusRule(NetworkAlerts)
        case probe(PrometheusOperatorProbe)
    }

    static let supportedGroupKeys: Set<String> = ["name", "interval", "rules"]

    /// A PrometheusRule's groups, checked like NetworkAlerts groups (PromQL included). Group
    /// fields netwatch does not write (Thanos's partial_response_strategy, limit,
    /// query_offset) are warnings.
    func decodeRule(_ raw: RawObject, spec: Mapping, report: (Diagnostic.Severity, String?, String) -> Void) -> NetworkAlerts? {
        var groups: [Node] = []
        for (index, group) in (spec["groups"]?.sequence ?? []).enumerated() {
            guard case .mapping(let fields) = group else {
                report(.error, "spec.groups[\(index)]", "expected a mapping, found \(group.kindDescription)")
                return nil
            }
            for entry in fields where !Self.supportedGroupKeys.contains(entry.key) {
                report(.warning, "spec.groups[\(index)].\(entry.key)", "not supported by netwatch; ignored")
            }
            groups.append(.mapping(Mapping(fields.filter { Self.supportedGroupKeys.contains($0.key) }.map { ($0.key, $0.value) })))
        }
        let decoded: NetworkAlertsSpec
        do throws(NodeDecodingError) {
            decoded = try NodeDecoder().decode(NetworkAlertsSpec.self, from: ["groups": .sequence(groups)], at: FieldPath(dotted: "spec"))
        } catch {
            report(.error, error.path.description, error.message)
            return nil
        }
        let problems = NetWatchValidation.problems(in: decoded)
        guard problems.isEmpty else {
            for (field, message) in problems { report(.error, field, message) }
            return nil
        }
        var metadata = raw.metadata
        if metadata.namespace == nil { metadata.namespace = "default" }
        return NetworkAlerts(metadata: metadata, spec: decoded, source: raw.source)
    }

    public func decode(_ raw: RawObject) -> (Resource?, [Diagnostic]) {
        let reference = ObjectReference(kind: rawValue, namespace: raw.metadata.namespace ?? "default", name: raw.metadata.name)
        var diagnostics: [Diagnostic] = []
        func report(_ severity: Diagnostic.Severity, _ field: String?, _ message: String) {
            diagnostics.append(Diagnostic(severity, object: reference, source: raw.source, field: field, message: message))
        }
        guard raw.type.apiVersion == Self.apiVersion else {
            report(.error, "apiVersion", "netwatch reads \(rawValue) as \(Self.apiVersion), not \(raw.type.apiVersion)")
            return (nil, diagnostics)
        }
        guard case .mapping(let spec)? = raw.document["spec"] else {
            report(.error, "spec", "missing; a \(rawValue) needs a spec with a selector")
            return (nil, diagnostics)
        }
        for entry in spec where !supportedSpecKeys.contains(entry.key) {
            let effect = self == .prometheusRule ? "ignored" : "ignored (its targets are scraped without it)"
            report(.warning, "spec.\(entry.key)", "not supported by netwatch; \(effect)")
        }
        if self == .prometheusRule {
            return (decodeRule(raw, spec: spec, report: report).map(Resource.prometheusRule), diagnostics)
        }
        if self == .probe {
            return (PrometheusOperatorProbeSpec.decode(raw, spec: spec, report: report).map(Resource.probe), diagnostics)
        }
        // The endpoints in netwatch's NetworkMonitor shape, remembering how each chose its port
        // and which `endpoint` label prometheus-operator gives it.
        var endpoints: [Node] = []
        var choices: [ServiceMonitorSpec.PortChoice] = []
        var endpointLabels: [String?] = []
        for (index, endpoint) in (spec[endpointsKey]?.sequence ?? []).enumerated() {
            let path = "spec.\(endpointsKey)[\(index)]"
            guard case .mapping(var fields) = endpoint else {
                report(.error, path, "expected a mapping, found \(endpoint.kindDescription)")
                return (nil, diagnostics)
            }
            for entry in fields where !Self.supportedEndpointKeys.contains(entry.key) {
                report(.warning, "\(path).\(entry.key)", "not supported by netwatch; ignored (the target is scraped without it)")
            }
            if self == .serviceMonitor, fields["portNumber"] != nil {
                report(.warning, "\(path).portNumber", "not a ServiceMonitor field; ignored (use port or targetPort)")
                fields["portNumber"] = nil
            }
            let (choice, endpointLabel) = Self.portChoice(fields, serviceMonitor: self == .serviceMonitor)
            let kept = fields.filter { Self.supportedEndpointKeys.contains($0.key) && !["port", "portNumber", "targetPort"].contains($0.key) }
            fields = Mapping(kept.map { ($0.key, $0.value) })
            // A Service port name (up to 63 characters) is kept in the choice only; a container
            // port goes through the NetworkMonitor checks (numbers in range, IANA names).
            switch choice {
            case .targetPort(.int(let number)): fields["port"] = .int(number)
            case .targetPort(.string(let name)): fields["port"] = .string(name)
            case .servicePort, .allPorts: break
            }
            endpoints.append(.mapping(fields))
            choices.append(choice)
            endpointLabels.append(endpointLabel)
        }
        guard let selector = spec["selector"] else {
            report(.error, "spec.selector", "required (as in prometheus-operator); use selector: {} to select every \(self == .podMonitor ? "pod" : "Service")")
            return (nil, diagnostics)
        }
        var shaped = Mapping()
        shaped["selector"] = selector
        if let namespaces = Self.namespaceSelector(spec["namespaceSelector"], report: report) { shaped["namespaceSelector"] = namespaces }
        shaped["endpoints"] = .sequence(endpoints)
        for key in ["podTargetLabels", "jobLabel", "attachMetadata", "scrapeClass"] + Self.limitKeys.sorted() {
            if let value = spec[key] { shaped[key] = value }
        }

        let renamed = { (field: String) -> String in
            guard field.hasPrefix("spec.endpoints[") else { return field }
            return "spec.\(self.endpointsKey)[" + field.dropFirst("spec.endpoints[".count)
        }
        var decoded: NetworkMonitorSpec
        do throws(NodeDecodingError) {
            decoded = try NodeDecoder().decode(NetworkMonitorSpec.self, from: .mapping(shaped), at: FieldPath(dotted: "spec"))
        } catch {
            report(.error, renamed(error.path.description), error.message)
            return (nil, diagnostics)
        }
        for index in decoded.endpoints.indices {
            decoded.endpoints[index].endpointLabel = endpointLabels[index]
            // prometheus-operator leaves an empty regex out, so Prometheus's default (.*) applies.
            for step in decoded.endpoints[index].relabelings.indices where decoded.endpoints[index].relabelings[step].regex == "" {
                decoded.endpoints[index].relabelings[step].regex = nil
            }
            for step in decoded.endpoints[index].metricRelabelings.indices where decoded.endpoints[index].metricRelabelings[step].regex == "" {
                decoded.endpoints[index].metricRelabelings[step].regex = nil
            }
        }
        let problems = NetWatchValidation.problems(in: decoded)
        guard problems.isEmpty else {
            for (field, message) in problems { report(.error, renamed(field), message) }
            return (nil, diagnostics)
        }
        var metadata = raw.metadata
        if metadata.namespace == nil { metadata.namespace = "default" }
        switch self {
        case .podMonitor:
            return (.podMonitor(NetworkMonitor(metadata: metadata, spec: decoded, source: raw.source)), diagnostics)
        case .prometheusRule, .probe:
            return (nil, diagnostics)  // decoded above
        case .serviceMonitor:
            let targetLabels = spec["targetLabels"]?.sequence?.compactMap(\.string) ?? []
            var role = ServiceMonitorSpec.DiscoveryRole.endpointSlice
            switch spec["serviceDiscoveryRole"]?.string {
            case nil, "EndpointSlice"?: break
            case "Endpoints"?: role = .endpoints
            case let other?:
                report(.error, "spec.serviceDiscoveryRole", "\"\(other)\" is not a discovery role; use Endpoints or EndpointSlice")
                return (nil, diagnostics)
            }
            var monitor = ServiceMonitorSpec(
                selector: decoded.selector ?? LabelSelector(), namespaceSelector: decoded.namespaceSelector,
                endpoints: zip(choices, decoded.endpoints).map { ServiceMonitorSpec.Endpoint(port: $0, scrape: $1) },
                targetLabels: targetLabels, podTargetLabels: decoded.podTargetLabels, jobLabel: decoded.jobLabel)
            monitor.limits = decoded.limits
            monitor.attachNodeMetadata = decoded.attachNodeMetadata
            monitor.discoveryRole = role
            monitor.scrapeClass = decoded.scrapeClass
            return (.serviceMonitor(ServiceMonitor(metadata: metadata, spec: monitor, source: raw.source)), diagnostics)
        }
    }

    /// How an endpoint picks its port, and the `endpoint` label prometheus-operator writes for
    /// it, each decided on its own as `generatePodMonitorConfig` does: the port is `port` (a
    /// non-empty name), else `portNumber` (PodMonitor), else the deprecated `targetPort`, else
    /// every port; the label is `port`, else `targetPort`'s string form, else none.
    static func portChoice(_ fields: Mapping, serviceMonitor: Bool) -> (ServiceMonitorSpec.PortChoice, String?) {
        let name = fields["port"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        var targetPort: IntOrString?
        switch fields["targetPort"] {
        case .int(let number)? where number != 0: targetPort = .int(number)
        case .string(let text)? where !text.isEmpty: targetPort = .string(text)
        default: break
        }
        let label = name ?? targetPort?.description
        if let name { return (serviceMonitor ? .servicePort(name) : .targetPort(.string(name)), label) }
        if !serviceMonitor, case .int(let number)? = fields["portNumber"], number != 0 { return (.targetPort(.int(number)), label) }
        if let targetPort { return (.targetPort(targetPort), label) }
        return (.allPorts, label)
    }

    /// prometheus-operator's monitor namespace selector: `any: true` is every namespace,
    /// `matchNames` those names, and anything else (`{}` included) the monitor's own namespace.
    static func namespaceSelector(_ node: Node?, report: (Diagnostic.Severity, String?, String) -> Void) -> Node? {
        guard case .mapping(let fields)? = node else { return nil }
        for entry in fields where !["any", "matchNames"].contains(entry.key) {
            report(.warning, "spec.namespaceSelector.\(entry.key)", "not a prometheus-operator namespace selector field; ignored (only any and matchNames select namespaces)")
        }
        if case .bool(true)? = fields["any"] { return ["any": true] }
        if let names = fields["matchNames"]?.sequence, !names.isEmpty { return ["matchNames": .sequence(names)] }
        return nil
    }
}
