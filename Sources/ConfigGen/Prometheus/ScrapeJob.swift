public import KubeModel
public import NetWatchAPI

/// One Prometheus scrape job, decided from a NetworkMonitor before any YAML exists.
public struct ScrapeJob: Sendable, Hashable {
    /// The namespaces a job looks for pods in.
    public enum NamespaceScope: Sendable, Hashable {
        case all
        /// Sorted names.
        case names([String])

        func contains(_ namespace: String) -> Bool {
            switch self {
            case .all: true
            case .names(let names): names.contains(namespace)
            }
        }
    }

    /// Pods selected by label, scraped on one container port.
    public struct PodTargets: Sendable, Hashable {
        public var selector: LabelSelector
        public var namespaces: NamespaceScope
        public var port: IntOrString
        public var podTargetLabels: [String]
    }

    public enum Targets: Sendable, Hashable {
        case pods(PodTargets)
        case staticGroups([NetworkMonitorSpec.StaticTargetGroup])
    }

    /// `netwatch/<namespace>/<monitor>/<endpoint index | network-exporter | static>`.
    public var name: String
    /// File name stem for file_sd: `<namespace>_<monitor>_<suffix>`; a valid ConfigMap key.
    public var fileStem: String
    public var monitor: ObjectReference
    /// The `job` target label: `<namespace>/<monitor>`, as prometheus-operator sets for PodMonitors.
    public var jobLabel: String
    public var targets: Targets
    public var interval: PrometheusDuration?
    public var scrapeTimeout: PrometheusDuration?
    public var path: String
    public var scheme: NetworkMonitorSpec.Endpoint.Scheme
    public var honorLabels: Bool
    public var relabelings: [RelabelConfig]
    public var metricRelabelings: [RelabelConfig]
}

/// The jobs of one MonitoringStack, and what went wrong choosing them.
public struct StackPlan: Sendable, Hashable {
    public var stack: MonitoringStack
    public var jobs: [ScrapeJob]
    public var diagnostics: [Diagnostic]
}

/// Chooses each stack's monitors and turns them into scrape jobs, with prometheus-operator's
/// selector semantics: an empty monitor selector selects all, an absent one none; an absent
/// namespace selector means the stack's (or monitor's) own namespace.
public struct ScrapePlanner: Sendable {
    /// Namespace name → labels, for every namespace known from Namespace objects, pods or
    /// netwatch resources (those without a Namespace object have no labels).
    public let namespaceLabels: [String: [String: String]]
    public let sortedNamespaces: [String]

    public init(snapshot: Snapshot) {
        var labels: [String: [String: String]] = [:]
        for pod in snapshot.pods { labels[pod.metadata.namespace ?? "default"] = [:] }
        for monitor in snapshot.networkMonitors { labels[monitor.namespace] = [:] }
        for stack in snapshot.monitoringStacks { labels[stack.namespace] = [:] }
        for namespace in snapshot.namespaces { labels[namespace.metadata.name] = namespace.metadata.labels }
        namespaceLabels = labels
        sortedNamespaces = labels.keys.sorted()
    }

    func selects(_ selector: NamespaceSelector?, namespace: String, own: String) -> Bool {
        guard let selector else { return namespace == own }
        return selector.matches(name: namespace, labels: namespaceLabels[namespace] ?? [:])
    }

    func scope(_ selector: NamespaceSelector?, own: String) -> ScrapeJob.NamespaceScope {
        guard let selector else { return .names([own]) }
        if selector.any { return .all }
        if !selector.matchNames.isEmpty { return .names(Array(Set(selector.matchNames)).sorted()) }
        return .names(sortedNamespaces.filter { selector.labelSelector.matches(namespaceLabels[$0] ?? [:]) })
    }

    /// The plan of one stack; `monitors` may be in any order.
    public func plan(_ stack: MonitoringStack, monitors: [NetworkMonitor]) -> StackPlan {
        var diagnostics: [Diagnostic] = []
        let reference = ObjectReference(kind: "MonitoringStack", namespace: stack.namespace, name: stack.name)
        guard let monitorSelector = stack.spec.monitorSelector else {
            diagnostics.append(Diagnostic(.warning, object: reference, source: stack.source, field: "spec.monitorSelector",
                message: "absent, so no NetworkMonitors are selected; set monitorSelector: {} to select all"))
            return StackPlan(stack: stack, jobs: [], diagnostics: diagnostics)
        }
        let selected = monitors
            .filter { monitorSelector.matches($0.metadata.labels) }
            .filter { selects(stack.spec.monitorNamespaceSelector, namespace: $0.namespace, own: stack.namespace) }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        var jobs: [ScrapeJob] = []
        for monitor in selected {
            jobs += self.jobs(for: monitor, in: stack, diagnostics: &diagnostics)
        }
        return StackPlan(stack: stack, jobs: jobs, diagnostics: diagnostics)
    }

    private func jobs(for monitor: NetworkMonitor, in stack: MonitoringStack, diagnostics: inout [Diagnostic]) -> [ScrapeJob] {
        let spec = monitor.spec
        let reference = ObjectReference(kind: "NetworkMonitor", namespace: monitor.namespace, name: monitor.name)
        let prefix = "netwatch/\(monitor.namespace)/\(monitor.name)"
        let stem = "\(monitor.namespace)_\(monitor.name)"
        let jobLabel = "\(monitor.namespace)/\(monitor.name)"
        let namespaces = scope(spec.namespaceSelector, own: monitor.namespace)
        let global = stack.spec.prometheus
        var jobs: [ScrapeJob] = []

        func job(_ suffix: String, targets: ScrapeJob.Targets, endpoint: NetworkMonitorSpec.Endpoint) -> ScrapeJob {
            ScrapeJob(
                name: "\(prefix)/\(suffix)", fileStem: "\(stem)_\(suffix)", monitor: reference, jobLabel: jobLabel, targets: targets,
                interval: endpoint.interval, scrapeTimeout: endpoint.scrapeTimeout, path: endpoint.path, scheme: endpoint.scheme,
                honorLabels: endpoint.honorLabels, relabelings: endpoint.relabelings, metricRelabelings: endpoint.metricRelabelings)
        }

        if let selector = spec.selector {
            for (index, endpoint) in spec.endpoints.enumerated() {
                let interval = endpoint.interval ?? global.scrapeInterval
                if let timeout = endpoint.scrapeTimeout, timeout > interval {
                    diagnostics.append(Diagnostic(.error, object: reference, source: monitor.source, field: "spec.endpoints[\(index)].scrapeTimeout",
                        message: "\(timeout) is longer than the scrape interval \(interval) (from MonitoringStack \(stack.namespace)/\(stack.name)); this endpoint is skipped"))
                    continue
                }
                let targets = ScrapeJob.PodTargets(selector: selector, namespaces: namespaces, port: endpoint.port, podTargetLabels: spec.podTargetLabels)
                jobs.append(job(String(index), targets: .pods(targets), endpoint: endpoint))
            }
            if spec.networkExporter {
                let endpoint = NetworkMonitorSpec.Endpoint(port: .string(NetworkExporterSidecar.portName))
                let targets = ScrapeJob.PodTargets(selector: selector, namespaces: namespaces, port: endpoint.port, podTargetLabels: spec.podTargetLabels)
                jobs.append(job("network-exporter", targets: .pods(targets), endpoint: endpoint))
            }
        } else if !spec.endpoints.isEmpty || spec.networkExporter {
            diagnostics.append(Diagnostic(.warning, object: reference, source: monitor.source, field: "spec.selector",
                message: "absent, so the endpoints select no pods; set selector: {} to select all pods"))
        }
        if !spec.staticTargets.isEmpty {
            jobs.append(job("static", targets: .staticGroups(spec.staticTargets), endpoint: NetworkMonitorSpec.Endpoint(port: .int(0))))
        }
        return jobs
    }
}
