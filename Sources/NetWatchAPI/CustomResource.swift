import DataTree
public import KubeModel

/// A netwatch custom resource: its metadata, where it was read from, and its validated spec.
public struct CustomResource<Spec: Sendable & Hashable>: Sendable, Hashable {
    public var metadata: ObjectMeta
    public var spec: Spec
    public var source: SourceLocation?

    public init(metadata: ObjectMeta, spec: Spec, source: SourceLocation? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.source = source
    }

    /// The object's namespace; netwatch's namespaced kinds default to `default` as kubectl does.
    public var namespace: String { metadata.namespace ?? "default" }
    public var name: String { metadata.name }
}

public typealias MonitoringStack = CustomResource<MonitoringStackSpec>
public typealias NetworkMonitor = CustomResource<NetworkMonitorSpec>

/// The custom resource kinds of netwatch.dev/v1alpha1 and how each is checked.
public enum NetWatchKind: String, Sendable, CaseIterable {
    case monitoringStack = "MonitoringStack"
    case networkMonitor = "NetworkMonitor"
    case networkAlerts = "NetworkAlerts"
    case networkDashboard = "NetworkDashboard"
    case sidecarInjector = "SidecarInjector"
    case flowPolicy = "FlowPolicy"
    case networkProbe = "NetworkProbe"

    public static let group = "netwatch.dev"
    public static let version = "v1alpha1"
    public static let apiVersion = "\(group)/\(version)"

    public var plural: String {
        switch self {
        case .monitoringStack: "monitoringstacks"
        case .networkMonitor: "networkmonitors"
        case .networkAlerts: "networkalerts"
        case .networkDashboard: "networkdashboards"
        case .sidecarInjector: "sidecarinjectors"
        case .flowPolicy: "flowpolicies"
        case .networkProbe: "networkprobes"
        }
    }

    /// Whether objects of the kind live in a namespace; a SidecarInjector is cluster-scoped.
    public var isNamespaced: Bool { self != .sidecarInjector }

    public var shortNames: [String] {
        switch self {
        case .monitoringStack: ["nwstack"]
        case .networkMonitor: ["nwmon"]
        case .networkAlerts: ["nwalerts"]
        case .networkDashboard: ["nwdash"]
        case .sidecarInjector: ["nwinject"]
        case .flowPolicy: ["nwflow"]
        case .networkProbe: ["nwprobe"]
        }
    }

    /// The whole object's schema: unknown top-level fields are errors too.
    public var objectSchema: Schema {
        .object(properties: [
            .init("apiVersion", .string(description: "netwatch.dev/v1alpha1")),
            .init("kind", .string(description: rawValue)),
            .init("metadata", .any()),
            .init("spec", specSchema),
            .init("status", .any(description: "Written by netwatch.")),
        ], required: ["spec"])
    }

    public var specSchema: Schema {
        switch self {
        case .monitoringStack: NetWatchSchemas.monitoringStackSpec
        case .networkMonitor: NetWatchSchemas.networkMonitorSpec
        case .networkAlerts: NetWatchSchemas.networkAlertsSpec
        case .networkDashboard: NetWatchSchemas.networkDashboardSpec
        case .sidecarInjector: NetWatchSchemas.sidecarInjectorSpec
        case .flowPolicy: NetWatchSchemas.flowPolicySpec
        case .networkProbe: NetWatchSchemas.networkProbeSpec
        }
    }
}

/// A decoded netwatch resource.
public enum NetWatchResource: Sendable, Hashable {
    case monitoringStack(MonitoringStack)
    case networkMonitor(NetworkMonitor)
    case networkAlerts(NetworkAlerts)
    case networkDashboard(NetworkDashboard)
    case sidecarInjector(SidecarInjector)
    case flowPolicy(FlowPolicy)
    case networkProbe(NetworkProbe)
}

extension NetWatchKind {
    /// Validates and decodes a raw object of this kind. On failure, returns every problem found:
    /// schema violations (unknown fields, wrong types, out-of-range values, bad durations), then
    /// semantic ones (selectors, regexes, timeouts longer than intervals).
    public func decode(_ raw: RawObject) -> (NetWatchResource?, [Diagnostic]) {
        let reference = ObjectReference(kind: rawValue, namespace: isNamespaced ? raw.metadata.namespace ?? "default" : nil, name: raw.metadata.name)
        func diagnostic(_ field: String?, _ message: String) -> Diagnostic {
            Diagnostic(.error, object: reference, source: raw.source, field: field, message: message)
        }
        guard raw.type.apiVersion == Self.apiVersion else {
            return (nil, [diagnostic("apiVersion", "\(rawValue) is served as \(Self.apiVersion), not \(raw.type.apiVersion)")])
        }
        if let problem = KubernetesName.subdomainProblem(raw.metadata.name) {
            return (nil, [diagnostic("metadata.name", "\"\(raw.metadata.name)\" \(problem), as the API server requires for \(rawValue)")])
        }
        let violations = objectSchema.validate(raw.document)
        if !violations.isEmpty {
            return (nil, violations.map { diagnostic($0.path.description, $0.message) })
        }
        let specNode = raw.document["spec"] ?? .mapping(Mapping())
        let path = FieldPath(dotted: "spec")
        do throws(NodeDecodingError) {
            switch self {
            case .monitoringStack:
                let spec = try NodeDecoder().decode(MonitoringStackSpec.self, from: specNode, at: path)
                let problems = NetWatchValidation.problems(in: spec)
                guard problems.isEmpty else { return (nil, problems.map { diagnostic($0.0, $0.1) }) }
                return (.monitoringStack(MonitoringStack(metadata: normalized(raw.metadata), spec: spec, source: raw.source)), [])
            case .networkMonitor:
                let spec = try NodeDecoder().decode(NetworkMonitorSpec.self, from: specNode, at: path)
                let problems = NetWatchValidation.problems(in: spec)
                guard problems.isEmpty else { return (nil, problems.map { diagnostic($0.0, $0.1) }) }
                return (.networkMonitor(NetworkMonitor(metadata: normalized(raw.metadata), spec: spec, source: raw.source)), [])
            case .networkAlerts:
                let spec = try NodeDecoder().decode(NetworkAlertsSpec.self, from: specNode, at: path)
                let problems = NetWatchValidation.problems(in: spec)
                guard problems.isEmpty else { return (nil, problems.map { diagnostic($0.0, $0.1) }) }
                return (.networkAlerts(NetworkAlerts(metadata: normalized(raw.metadata), spec: spec, source: raw.source)), [])
            case .networkDashboard:
                let spec = try NodeDecoder().decode(NetworkDashboardSpec.self, from: specNode, at: path)
                return (.networkDashboard(NetworkDashboard(metadata: normalized(raw.metadata), spec: spec, source: raw.source)), [])
            case .sidecarInjector:
                let spec = try NodeDecoder().decode(SidecarInjectorSpec.self, from: specNode, at: path)
                let problems = NetWatchValidation.problems(in: spec)
                guard problems.isEmpty else { return (nil, problems.map { diagnostic($0.0, $0.1) }) }
                var metadata = raw.metadata
                metadata.namespace = nil  // cluster-scoped: a namespace in a manifest is ignored, as the API server does
                return (.sidecarInjector(SidecarInjector(metadata: metadata, spec: spec, source: raw.source)), [])
            case .flowPolicy:
                let spec = try NodeDecoder().decode(FlowPolicySpec.self, from: specNode, at: path)
                let problems = NetWatchValidation.problems(in: spec)
                guard problems.isEmpty else { return (nil, problems.map { diagnostic($0.0, $0.1) }) }
                return (.flowPolicy(FlowPolicy(metadata: normalized(raw.metadata), spec: spec, source: raw.source)), [])
            case .networkProbe:
                let spec = try NodeDecoder().decode(NetworkProbeSpec.self, from: specNode, at: path)
                let problems = NetWatchValidation.problems(in: spec)
                guard problems.isEmpty else { return (nil, problems.map { diagnostic($0.0, $0.1) }) }
                return (.networkProbe(NetworkProbe(metadata: normalized(raw.metadata), spec: spec, source: raw.source)), [])
            }
        } catch {
            return (nil, [diagnostic(error.path.description, error.message)])
        }
    }

    private func normalized(_ metadata: ObjectMeta) -> ObjectMeta {
        var metadata = metadata
        if metadata.namespace == nil { metadata.namespace = "default" }
        return metadata
    }
}
