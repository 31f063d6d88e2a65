import KubeModel
import NetWatchAPI

/// Turns a stack's NetworkProbes into scrape jobs and blackbox_exporter modules.
///
/// Each probe gets one job, `probe/<namespace>/<name>`, shaped like prometheus-operator's
/// `Probe` with static targets (the target becomes `__param_target` and `instance`, the prober
/// becomes `__address__`), and one module, `<namespace>_<name>`, in the stack's blackbox.yml.
/// Services are resolved here, from the snapshot, to their cluster DNS names. A probe whose
/// prober Service is unknown or whose targets resolve to nothing is an error for that probe
/// alone; the others render.
struct ProbePlanner {
    let planner: ScrapePlanner
    /// Sorted by namespace and name.
    let services: [Service]
    /// The same Services by namespace, so a probe looking in its own namespace does not read
    /// every Service of the cluster.
    let servicesByNamespace: [String: [Service]]

    init(planner: ScrapePlanner, services: [Service]) {
        self.planner = planner
        self.services = services
        servicesByNamespace = Dictionary(grouping: services) { $0.metadata.namespace ?? "default" }
    }

    struct Plan {
        var jobs: [ScrapeJob] = []
        /// Module name → module, for the stack's blackbox.yml.
        var modules: [(name: String, probe: NetworkProbe)] = []
        var diagnostics: [Diagnostic] = []
        /// Targets per probe that rendered.
        var targetCounts: [ObjectReference: Int] = [:]
    }

    /// The NetworkProbes a stack uses: its `probeSelector` (absent selects none) in the
    /// namespaces its `monitorNamespaceSelector` allows, sorted by namespace and name.
    func probes(for stack: MonitoringStack, from all: [NetworkProbe]) -> [NetworkProbe] {
        guard let selector = stack.spec.probeSelector else { return [] }
        return all
            .filter { selector.matches($0.metadata.labels) }
            .filter { planner.selects(stack.spec.monitorNamespaceSelector, namespace: $0.namespace, own: stack.namespace) }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    }

    func plan(_ stack: MonitoringStack, probes all: [NetworkProbe], operatorProbes: [PrometheusOperatorProbe] = []) -> Plan {
        var plan = Plan()
        for probe in probes(for: stack, from: all) {
            let reference = ObjectReference(kind: NetWatchKind.networkProbe.rawValue, namespace: probe.namespace, name: probe.name)
            func error(_ field: String, _ message: String) {
                plan.diagnostics.append(Diagnostic(.error, object: reference, source: probe.source, field: field, message: message))
            }
            guard let prober = proberAddress(probe, error: error) else { continue }
            let groups = targetGroups(probe)
            let count = groups.reduce(0) { $0 + $1.targets.count }
            guard count > 0 else {
                error("spec.targets", "resolves to no target: no static hosts, and the services selector matches no Service port; the probe is not rendered")
                continue
            }
            let moduleName = Self.moduleName(probe)
            let targets = ScrapeJob.ProbeTargets(groups: groups, prober: prober, module: moduleName)
            var endpoint = NetworkMonitorSpec.Endpoint(port: nil, path: probe.spec.prober.path, interval: probe.spec.interval, scrapeTimeout: probe.spec.scrapeTimeout,
                                                       scheme: probe.spec.prober.scheme == "https" ? .https : .http)
            endpoint.endpointLabel = nil
            endpoint.params = ["module": [moduleName]]
            let name = "probe/\(probe.namespace)/\(probe.name)"
            plan.jobs.append(ScrapeJob(name: name, fileStem: "probe_\(probe.namespace)_\(probe.name)", monitor: reference, jobLabel: name,
                                       targets: .probe(targets), endpoint: endpoint))
            plan.modules.append((moduleName, probe))
            plan.targetCounts[reference] = count
        }
        plan.jobs += operatorJobs(stack, operatorProbes, counts: &plan.targetCounts)
        return plan
    }

    /// prometheus-operator Probes the stack's `probeSelector` selects, as `generateProbeConfig`
    /// renders their static targets: the `module` parameter first, then `params`;
    /// `honor_timestamps: true`; `jobName` as the `job` label; the static config's relabelings
    /// after the prober address; the module is the prober's own.
    func operatorJobs(_ stack: MonitoringStack, _ all: [PrometheusOperatorProbe], counts: inout [ObjectReference: Int]) -> [ScrapeJob] {
        guard let selector = stack.spec.probeSelector else { return [] }
        let selected = all
            .filter { selector.matches($0.metadata.labels) && planner.selects(stack.spec.monitorNamespaceSelector, namespace: $0.namespace, own: stack.namespace) }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        return selected.map { probe in
            let spec = probe.spec
            let reference = ObjectReference(kind: PrometheusOperatorKind.probe.rawValue, namespace: probe.namespace, name: probe.name)
            var labels = spec.staticConfig?.labels ?? [:]
            if labels["namespace"] == nil { labels["namespace"] = probe.namespace }
            // No static config: a job without targets, as prometheus-operator renders it.
            let targets = spec.staticConfig?.targets ?? []
            var endpoint = NetworkMonitorSpec.Endpoint(port: nil, path: spec.prober.path, interval: spec.interval, scrapeTimeout: spec.scrapeTimeout,
                                                       scheme: spec.prober.scheme?.lowercased() == "https" ? .https : .http,
                                                       relabelings: spec.staticConfig?.relabelings ?? [], metricRelabelings: spec.metricRelabelings)
            endpoint.endpointLabel = nil
            endpoint.honorTimestamps = true
            var params: [String: [String]] = [:]
            if let module = spec.module { params["module"] = [module] }
            for param in spec.params where !(param.name == "module" && spec.module != nil) { params[param.name, default: []] += param.values }
            endpoint.params = params
            let name = "probe/\(probe.namespace)/\(probe.name)"
            var job = ScrapeJob(name: name, fileStem: "probe_\(probe.namespace)_\(probe.name)", monitor: reference, jobLabel: name,
                                targets: .probe(.init(groups: targets.isEmpty ? [] : [.init(targets: targets, labels: labels)], prober: spec.prober.url,
                                                      module: spec.module, jobLabel: spec.jobName)),
                                endpoint: endpoint)
            job.limits = spec.limits
            counts[reference] = targets.count
            return job
        }
    }

    /// `<namespace>_<name>`: unique per probe, a valid YAML key and module parameter.
    static func moduleName(_ probe: NetworkProbe) -> String { "\(probe.namespace)_\(probe.name)" }

    func proberAddress(_ probe: NetworkProbe, error: (String, String) -> Void) -> String? {
        if let url = probe.spec.prober.url { return url }
        guard let service = probe.spec.prober.service else { return nil }
        let namespace = service.namespace ?? probe.namespace
        guard servicesByNamespace[namespace]?.contains(where: { $0.metadata.name == service.name }) == true else {
            error("spec.prober.service", "Service \(namespace)/\(service.name) is not in the cluster (or among the manifests read); create it in front of the blackbox_exporter or set prober.url")
            return nil
        }
        return "\(service.name).\(namespace).svc:\(service.port)"
    }

    /// The static hosts (labelled with the probe's namespace, as prometheus-operator does) and
    /// one group per selected Service (labelled with its namespace and name).
    func targetGroups(_ probe: NetworkProbe) -> [NetworkMonitorSpec.StaticTargetGroup] {
        var groups: [NetworkMonitorSpec.StaticTargetGroup] = []
        if !probe.spec.targets.static.isEmpty {
            var labels = probe.spec.labels
            if labels["namespace"] == nil { labels["namespace"] = probe.namespace }
            groups.append(.init(targets: probe.spec.targets.static, labels: labels))
        }
        guard let selected = probe.spec.targets.services else { return groups }
        let candidates = selected.namespaceSelector == nil ? servicesByNamespace[probe.namespace] ?? [] : services
        for service in candidates {
            let namespace = service.metadata.namespace ?? "default"
            guard planner.selects(selected.namespaceSelector, namespace: namespace, own: probe.namespace),
                  selected.selector.matches(service.metadata.labels) else { continue }
            let ports = (service.spec.ports ?? []).filter { port in
                switch selected.port {
                case nil: true
                case .int(let number)?: port.port == number
                case .string(let name)?: port.name == name
                }
            }
            guard !ports.isEmpty else { continue }
            let host = "\(service.metadata.name).\(namespace).svc"
            var labels = probe.spec.labels
            labels["namespace"] = namespace
            labels["service"] = service.metadata.name
            groups.append(.init(targets: ports.map { Self.target(host: host, port: $0.port, module: probe.spec.module) }, labels: labels))
        }
        return groups
    }

    /// A Service port as the module takes targets.
    static func target(host: String, port: Int, module: NetworkProbeSpec.Module) -> String {
        switch module {
        case .icmp: host
        case .http: "http://\(host):\(port)"
        case .tcp, .tls, .dns: "\(host):\(port)"
        }
    }
}
