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

    public static let group = "monitoring.coreos.com"
    public static let version = "v1"
    public static let apiVersion = "\(group)/\(version)"

    public var plural: String {
        switch self {
        case .podMonitor: "podmonitors"
        case .serviceMonitor: "servicemonitors"
        case .prometheusRule: "prometheusrules"
        }
    }

    var endpointsKey: String { self == .podMonitor ? "podMetricsEndpoints" : "endpoints" }
    var supportedSpecKeys: Set<String> {
        switch self {
        case .podMonitor: ["selector", "namespaceSelector", "podMetricsEndpoints", "podTargetLabels"]
        case .serviceMonitor: ["selector", "namespaceSelector", "endpoints", "podTargetLabels", "targetLabels", "jobLabel"]
        case .prometheusRule: ["groups"]
        }
    }

    static let supportedEndpointKeys: Set<String> = [
        "port", "portNumber", "targetPort", "path", "scheme", "interval", "scrapeTimeout", "honorLabels", "relabelings", "metricRelabelings",
    ]

    public enum Resource: Sendable, Hashable {
        case podMonitor(NetworkMonitor)
        case serviceMonitor(ServiceMonitor)
        /// Custom groups only, in the NetworkAlerts shape.
        case prometheusRule(NetworkAlerts)
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
            report(.warning, "spec.\(entry.key)", "not supported by netwatch; ignored")
        }
        if self == .prometheusRule {
            return (decodeRule(raw, spec: spec, report: report).map(Resource.prometheusRule), diagnostics)
        }
        // The endpoints in netwatch's NetworkMonitor shape, remembering how each chose its port.
        var endpoints: [Node] = []
        var choices: [ServiceMonitorSpec.PortChoice?] = []
        for (index, endpoint) in (spec[endpointsKey]?.sequence ?? []).enumerated() {
            let path = "spec.\(endpointsKey)[\(index)]"
            guard case .mapping(var fields) = endpoint else {
                report(.error, path, "expected a mapping, found \(endpoint.kindDescription)")
                return (nil, diagnostics)
            }
            for entry in fields where !Self.supportedEndpointKeys.contains(entry.key) {
                report(.warning, "\(path).\(entry.key)", "not supported by netwatch; ignored (the target is scraped without it)")
            }
            var choice: ServiceMonitorSpec.PortChoice?
            let port = fields["port"], portNumber = fields["portNumber"], targetPort = fields["targetPort"]
            if let name = port?.string {
                choice = self == .serviceMonitor ? .servicePort(name) : .targetPort(.string(name))
            } else if case .int(let number)? = portNumber {
                choice = .targetPort(.int(number))
            } else if case .int(let number)? = targetPort {
                choice = .targetPort(.int(number))
            } else if let name = targetPort?.string {
                choice = .targetPort(.string(name))
            } else {
                report(.error, path, "names no port; set port (a \(self == .serviceMonitor ? "Service" : "container") port name)\(self == .podMonitor ? ", portNumber" : "") or targetPort")
                return (nil, diagnostics)
            }
            let kept = fields.filter { Self.supportedEndpointKeys.contains($0.key) && !["port", "portNumber", "targetPort"].contains($0.key) }
            fields = Mapping(kept.map { ($0.key, $0.value) })
            switch choice {
            case .targetPort(.int(let number))?: fields["port"] = .int(number)
            case .targetPort(.string(let name))?, .servicePort(let name)?: fields["port"] = .string(name)
            case nil: break
            }
            endpoints.append(.mapping(fields))
            choices.append(choice)
        }
        guard let selector = spec["selector"] else {
            report(.error, "spec.selector", "required (as in prometheus-operator); use selector: {} to select every \(self == .podMonitor ? "pod" : "Service")")
            return (nil, diagnostics)
        }
        var shaped = Mapping()
        shaped["selector"] = selector
        if let namespaces = spec["namespaceSelector"] { shaped["namespaceSelector"] = namespaces }
        shaped["endpoints"] = .sequence(endpoints)
        if let labels = spec["podTargetLabels"] { shaped["podTargetLabels"] = labels }

        let renamed = { (field: String) -> String in
            guard field.hasPrefix("spec.endpoints[") else { return field }
            return "spec.\(self.endpointsKey)[" + field.dropFirst("spec.endpoints[".count)
        }
        let decoded: NetworkMonitorSpec
        do throws(NodeDecodingError) {
            decoded = try NodeDecoder().decode(NetworkMonitorSpec.self, from: .mapping(shaped), at: FieldPath(dotted: "spec"))
        } catch {
            report(.error, renamed(error.path.description), error.message)
            return (nil, diagnostics)
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
        case .prometheusRule:
            return (nil, diagnostics)  // decoded by decodeRule above
        case .serviceMonitor:
            let targetLabels = spec["targetLabels"]?.sequence?.compactMap(\.string) ?? []
            let monitor = ServiceMonitorSpec(
                selector: decoded.selector ?? LabelSelector(), namespaceSelector: decoded.namespaceSelector,
                endpoints: zip(choices, decoded.endpoints).compactMap { choice, endpoint in choice.map { ServiceMonitorSpec.Endpoint(port: $0, scrape: endpoint) } },
                targetLabels: targetLabels, podTargetLabels: decoded.podTargetLabels, jobLabel: spec["jobLabel"]?.string)
            return (.serviceMonitor(ServiceMonitor(metadata: metadata, spec: monitor, source: raw.source)), diagnostics)
        }
    }
}
