import KubeModel
public import NetWatchAPI

/// Chooses each stack's monitors and turns them into scrape jobs, with prometheus-operator's
/// selector semantics: an empty monitor selector selects all, an absent one none; an absent
/// namespace selector means the stack's (or monitor's) own namespace.
public struct ScrapePlanner: Sendable {
    /// Namespace name → labels, for every namespace known from Namespace objects, pods or
    /// netwatch resources (those without a Namespace object have no labels).
    public let namespaceLabels: [String: [String: String]]
    public let sortedNamespaces: [String]
    let credentials: CredentialStore

    public init(snapshot: Snapshot) {
        credentials = CredentialStore(snapshot.credentialObjects, authoritative: snapshot.credentialsAuthoritative)
        var labels: [String: [String: String]] = [:]
        for pod in snapshot.pods { labels[pod.metadata.namespace ?? "default"] = [:] }
        for slice in snapshot.endpointSlices { labels[slice.metadata.namespace ?? "default"] = [:] }
        for ingress in snapshot.ingresses { labels[ingress.metadata.namespace ?? "default"] = [:] }
        for monitor in snapshot.networkMonitors + snapshot.podMonitors { labels[monitor.namespace] = [:] }
        for monitor in snapshot.serviceMonitors { labels[monitor.namespace] = [:] }
        for alerts in snapshot.networkAlerts + snapshot.prometheusRules { labels[alerts.namespace] = [:] }
        for dashboard in snapshot.networkDashboards { labels[dashboard.namespace] = [:] }
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

    /// Where a NetworkMonitor-shaped monitor came from: it names the jobs and the diagnostics.
    enum Origin {
        case networkMonitor
        case podMonitor

        var kind: String { self == .networkMonitor ? "NetworkMonitor" : "PodMonitor" }
        /// prometheus-operator's job-name prefix for PodMonitors, so dashboards keyed on job names keep working.
        func jobPrefix(_ namespace: String, _ name: String) -> String {
            self == .networkMonitor ? "netwatch/\(namespace)/\(name)" : "podMonitor/\(namespace)/\(name)"
        }
        func fileStem(_ namespace: String, _ name: String) -> String {
            self == .networkMonitor ? "\(namespace)_\(name)" : "podMonitor_\(namespace)_\(name)"
        }
        var endpointsField: String { self == .networkMonitor ? "spec.endpoints" : "spec.podMetricsEndpoints" }
    }

    /// The plan of one stack; the monitors may be in any order. The stack's monitor selectors
    /// choose among NetworkMonitors, PodMonitors and ServiceMonitors alike.
    public func plan(_ stack: MonitoringStack, monitors: [NetworkMonitor], podMonitors: [NetworkMonitor] = [], serviceMonitors: [ServiceMonitor] = []) -> StackPlan {
        var diagnostics: [Diagnostic] = []
        let reference = ObjectReference(kind: "MonitoringStack", namespace: stack.namespace, name: stack.name)
        guard let monitorSelector = stack.spec.monitorSelector else {
            // A stack of probes or cluster targets alone needs no monitors.
            if stack.spec.probeSelector == nil && !stack.spec.clusterTargets.any {
                diagnostics.append(Diagnostic(.warning, object: reference, source: stack.source, field: "spec.monitorSelector",
                    message: "absent, so no NetworkMonitors are selected; set monitorSelector: {} to select all"))
            }
            return StackPlan(stack: stack, jobs: [], diagnostics: diagnostics)
        }
        func chosen<Spec>(_ monitors: [CustomResource<Spec>]) -> [CustomResource<Spec>] {
            monitors
                .filter { monitorSelector.matches($0.metadata.labels) }
                .filter { selects(stack.spec.monitorNamespaceSelector, namespace: $0.namespace, own: stack.namespace) }
                .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        }
        var jobs: [ScrapeJob] = []
        for monitor in chosen(monitors) {
            jobs += self.jobs(for: monitor, origin: .networkMonitor, in: stack, diagnostics: &diagnostics)
        }
        for monitor in chosen(podMonitors) {
            jobs += self.jobs(for: monitor, origin: .podMonitor, in: stack, diagnostics: &diagnostics)
        }
        for monitor in chosen(serviceMonitors) {
            jobs += self.jobs(for: monitor, in: stack, diagnostics: &diagnostics)
        }
        return StackPlan(stack: stack, jobs: jobs, diagnostics: diagnostics)
    }

    /// The NetworkAlerts a stack uses: its `alertSelector` (absent selects none) in the namespaces
    /// its `monitorNamespaceSelector` allows, sorted by namespace and name.
    public func alerts(for stack: MonitoringStack, from all: [NetworkAlerts]) -> [NetworkAlerts] {
        guard let selector = stack.spec.alertSelector else { return [] }
        return all
            .filter { selector.matches($0.metadata.labels) }
            .filter { selects(stack.spec.monitorNamespaceSelector, namespace: $0.namespace, own: stack.namespace) }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    }

    /// The NetworkDashboards a stack uses: its `dashboardSelector` (absent selects none) in the
    /// namespaces its `monitorNamespaceSelector` allows, sorted by namespace and name.
    public func dashboards(for stack: MonitoringStack, from all: [NetworkDashboard]) -> [NetworkDashboard] {
        guard let selector = stack.spec.dashboardSelector else { return [] }
        return all
            .filter { selector.matches($0.metadata.labels) }
            .filter { selects(stack.spec.monitorNamespaceSelector, namespace: $0.namespace, own: stack.namespace) }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    }

    /// The stack's scrape class for a monitor, or a diagnostic when it names none of them.
    private func scrapeClass(_ name: String?, for stack: MonitoringStack, reference: ObjectReference, source: SourceLocation?,
                             diagnostics: inout [Diagnostic]) -> ScrapeClass?? {
        switch stack.spec.scrapeClass(named: name) {
        case .success(let found): return .some(found)
        case .failure(let unknown):
            let known = unknown.known.isEmpty ? "it has none" : "it has \(unknown.known.joined(separator: ", "))"
            diagnostics.append(Diagnostic(.error, object: reference, source: source, field: "spec.scrapeClass",
                message: "\"\(unknown.name)\" is not a scrape class of MonitoringStack \(stack.namespace)/\(stack.name) (\(known)); the monitor is skipped there"))
            return nil
        }
    }

    /// The endpoint's TLS and authentication resolved against the known Secrets and ConfigMaps;
    /// nil (with diagnostics) when a reference cannot be satisfied, so the endpoint is skipped.
    private func security(of endpoint: NetworkMonitorSpec.Endpoint, namespace: String, field: String, reference: ObjectReference,
                          source: SourceLocation?, stack: MonitoringStack, diagnostics: inout [Diagnostic]) -> ResolvedSecurity? {
        security(endpoint.security, namespace: namespace, field: field, reference: reference, source: source, stack: stack, diagnostics: &diagnostics)
    }

    /// The same for settings outside an endpoint (a prometheus-operator Probe's prober).
    func security(_ settings: ScrapeSecurity, namespace: String, field: String, reference: ObjectReference,
                  source: SourceLocation?, stack: MonitoringStack, diagnostics: inout [Diagnostic]) -> ResolvedSecurity? {
        let version = stack.spec.prometheus.version ?? PrometheusVersion(3, 0)
        let (resolved, problems) = ResolvedSecurity.resolve(settings, namespace: namespace, path: field, store: credentials,
                                                            usernameFromFile: version >= PrometheusVersion(3, 0), mayHoldValues: credentials.authoritative)
        for (path, message) in problems {
            diagnostics.append(Diagnostic(.error, object: reference, source: source, field: path, message: message))
        }
        return problems.isEmpty ? resolved : nil
    }

    /// Whether an endpoint's timeout fits its interval; reports it and says to skip it if not.
    private func timeoutFits(_ endpoint: NetworkMonitorSpec.Endpoint, field: String, reference: ObjectReference, source: SourceLocation?,
                             stack: MonitoringStack, diagnostics: inout [Diagnostic]) -> Bool {
        let interval = endpoint.interval ?? stack.spec.prometheus.scrapeInterval
        guard let timeout = endpoint.scrapeTimeout, timeout > interval else { return true }
        diagnostics.append(Diagnostic(.error, object: reference, source: source, field: field + ".scrapeTimeout",
            message: "\(timeout) is longer than the scrape interval \(interval) (from MonitoringStack \(stack.namespace)/\(stack.name)); this endpoint is skipped"))
        return false
    }

    private func jobs(for monitor: ServiceMonitor, in stack: MonitoringStack, diagnostics: inout [Diagnostic]) -> [ScrapeJob] {
        let reference = ObjectReference(kind: "ServiceMonitor", namespace: monitor.namespace, name: monitor.name)
        var role = monitor.spec.discoveryRole
        if stack.spec.prometheus.discovery == .static {
            if role == .endpoints {
                diagnostics.append(Diagnostic(.warning, object: reference, source: monitor.source, field: "spec.serviceDiscoveryRole",
                    message: "Endpoints: MonitoringStack \(stack.namespace)/\(stack.name) uses static discovery, which resolves Services through EndpointSlices; its targets carry the endpointslice role's labels (__meta_kubernetes_endpointslice_*), so relabelings on __meta_kubernetes_endpoint_* see nothing"))
            }
            role = .endpointSlice
            if monitor.spec.attachNodeMetadata {
                diagnostics.append(Diagnostic(.warning, object: reference, source: monitor.source, field: "spec.attachMetadata.node",
                    message: "ignored under static discovery (MonitoringStack \(stack.namespace)/\(stack.name)): netwatch does not read Nodes, so targets have no __meta_kubernetes_node_* labels"))
            }
        }
        let spec = monitor.spec
        var jobs: [ScrapeJob] = []
        guard let scrapeClass = scrapeClass(spec.scrapeClass, for: stack, reference: reference, source: monitor.source, diagnostics: &diagnostics) else { return [] }
        for (index, original) in spec.endpoints.enumerated() {
            var endpoint = original
            if let scrapeClass { endpoint.scrape = scrapeClass.applied(to: endpoint.scrape) }
            guard timeoutFits(endpoint.scrape, field: "spec.endpoints[\(index)]", reference: reference, source: monitor.source, stack: stack, diagnostics: &diagnostics),
                  let security = security(of: endpoint.scrape, namespace: monitor.namespace, field: "spec.endpoints[\(index)]", reference: reference,
                                          source: monitor.source, stack: stack, diagnostics: &diagnostics) else { continue }
            let targets = ScrapeJob.ServiceTargets(
                selector: spec.selector, namespaces: scope(spec.namespaceSelector, own: monitor.namespace), port: endpoint.port,
                targetLabels: spec.targetLabels, podTargetLabels: spec.podTargetLabels, jobLabel: spec.jobLabel, role: role,
                filterRunning: endpoint.scrape.filterRunning)
            var job = ScrapeJob(
                name: "serviceMonitor/\(monitor.namespace)/\(monitor.name)/\(index)", fileStem: "serviceMonitor_\(monitor.namespace)_\(monitor.name)_\(index)",
                monitor: reference, jobLabel: "", targets: .services(targets), endpoint: endpoint.scrape)
            job.limits = spec.limits
            job.attachNodeMetadata = (spec.attachNodeMetadata || scrapeClass?.attachNodeMetadata == true) && stack.spec.prometheus.discovery == .kubernetes
            job.security = security
            jobs.append(job)
        }
        return jobs
    }

    private func jobs(for monitor: NetworkMonitor, origin: Origin, in stack: MonitoringStack, diagnostics: inout [Diagnostic]) -> [ScrapeJob] {
        let spec = monitor.spec
        let reference = ObjectReference(kind: origin.kind, namespace: monitor.namespace, name: monitor.name)
        let prefix = origin.jobPrefix(monitor.namespace, monitor.name)
        let stem = origin.fileStem(monitor.namespace, monitor.name)
        let jobLabel = "\(monitor.namespace)/\(monitor.name)"
        let namespaces = scope(spec.namespaceSelector, own: monitor.namespace)
        var jobs: [ScrapeJob] = []

        guard let scrapeClass = scrapeClass(spec.scrapeClass, for: stack, reference: reference, source: monitor.source, diagnostics: &diagnostics) else { return [] }
        func job(_ suffix: String, targets: ScrapeJob.Targets, endpoint: NetworkMonitorSpec.Endpoint, security: ResolvedSecurity = ResolvedSecurity()) -> ScrapeJob {
            var job = ScrapeJob(name: "\(prefix)/\(suffix)", fileStem: "\(stem)_\(suffix)", monitor: reference, jobLabel: jobLabel, targets: targets, endpoint: endpoint)
            job.limits = spec.limits
            job.attachNodeMetadata = (spec.attachNodeMetadata || scrapeClass?.attachNodeMetadata == true) && stack.spec.prometheus.discovery == .kubernetes
            job.security = security
            return job
        }
        if spec.attachNodeMetadata && stack.spec.prometheus.discovery == .static {
            diagnostics.append(Diagnostic(.warning, object: reference, source: monitor.source, field: "spec.attachMetadata.node",
                message: "ignored under static discovery (MonitoringStack \(stack.namespace)/\(stack.name)): netwatch does not read Nodes, so targets have no __meta_kubernetes_node_* labels"))
        }
        func podTargets(_ endpoint: NetworkMonitorSpec.Endpoint, selector: LabelSelector) -> ScrapeJob.Targets {
            .pods(ScrapeJob.PodTargets(
                selector: selector, namespaces: namespaces, port: endpoint.port, podTargetLabels: spec.podTargetLabels,
                filterRunning: endpoint.filterRunning, jobLabel: spec.jobLabel))
        }

        if let selector = spec.selector {
            for (index, original) in spec.endpoints.enumerated() {
                let endpoint = scrapeClass?.applied(to: original) ?? original
                let field = "\(origin.endpointsField)[\(index)]"
                guard timeoutFits(endpoint, field: field, reference: reference, source: monitor.source, stack: stack, diagnostics: &diagnostics),
                      let security = security(of: endpoint, namespace: monitor.namespace, field: field, reference: reference, source: monitor.source,
                                              stack: stack, diagnostics: &diagnostics) else { continue }
                jobs.append(job(String(index), targets: podTargets(endpoint, selector: selector), endpoint: endpoint, security: security))
            }
            if spec.networkExporter {
                let endpoint = NetworkMonitorSpec.Endpoint(port: .string(NetworkExporterSidecar.portName))
                jobs.append(job("network-exporter", targets: podTargets(endpoint, selector: selector), endpoint: endpoint))
            }
        } else if !spec.endpoints.isEmpty || spec.networkExporter {
            diagnostics.append(Diagnostic(.warning, object: reference, source: monitor.source, field: "spec.selector",
                message: "absent, so the endpoints select no pods; set selector: {} to select all pods"))
        }
        if !spec.staticTargets.isEmpty {
            jobs.append(job("static", targets: .staticGroups(spec.staticTargets), endpoint: NetworkMonitorSpec.Endpoint(port: nil)))
        }
        return jobs
    }
}
