import KubeModel
import NetWatchAPI

/// Turns a stack's NetworkProbes into scrape jobs and blackbox_exporter modules.
///
/// Each probe's static hosts and Services get one job, `probe/<namespace>/<name>`, shaped like
/// prometheus-operator's `Probe` with static targets (the target becomes `__param_target` and
/// `instance`, the prober becomes `__address__`); its Ingresses and pods get a job each
/// (`…/ingresses`, `…/pods`) discovered as Prometheus discovers them, with the same `job`
/// label; and it gets one module, `<namespace>_<name>`, in the stack's blackbox.yml. Services
/// are resolved here, from the snapshot, to their cluster DNS names. A probe whose prober
/// Service is unknown or whose targets resolve to nothing is an error for that probe alone;
/// the others render. Ingress and pod selectors that match nothing yet are only a warning:
/// discovery picks the objects up when they appear.
struct ProbePlanner {
    let planner: ScrapePlanner
    /// Sorted by namespace and name.
    let services: [Service]
    /// The same Services by namespace, so a probe looking in its own namespace does not read
    /// every Service of the cluster.
    let servicesByNamespace: [String: [Service]]

    /// Sorted by namespace and name.
    let ingresses: [Ingress]
    let pods: PodIndex

    init(planner: ScrapePlanner, services: [Service], ingresses: [Ingress] = [], pods: PodIndex = PodIndex([])) {
        self.planner = planner
        self.services = services
        servicesByNamespace = Dictionary(grouping: services) { $0.metadata.namespace ?? "default" }
        self.ingresses = ingresses
        self.pods = pods
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
            func report(_ severity: Diagnostic.Severity, _ field: String, _ message: String) {
                plan.diagnostics.append(Diagnostic(severity, object: reference, source: probe.source, field: field, message: message))
            }
            guard let prober = proberAddress(probe, error: { report(.error, $0, $1) }) else { continue }
            let moduleName = Self.moduleName(probe)
            let name = "probe/\(probe.namespace)/\(probe.name)"
            let stem = "probe_\(probe.namespace)_\(probe.name)"
            var endpoint = NetworkMonitorSpec.Endpoint(port: nil, path: probe.spec.prober.path, interval: probe.spec.interval, scrapeTimeout: probe.spec.scrapeTimeout,
                                                       scheme: probe.spec.prober.scheme == "https" ? .https : .http)
            endpoint.endpointLabel = nil
            endpoint.params = ["module": [moduleName]]
            func job(_ suffix: String, _ targets: ScrapeJob.Targets) -> ScrapeJob {
                ScrapeJob(name: name + suffix, fileStem: stem + suffix.replacingAll("/", with: "_"), monitor: reference, jobLabel: name, targets: targets, endpoint: endpoint)
            }
            var jobs: [ScrapeJob] = []
            let groups = targetGroups(probe)
            var count = groups.reduce(0) { $0 + $1.targets.count }
            if !groups.isEmpty { jobs.append(job("", .probe(ScrapeJob.ProbeTargets(groups: groups, prober: prober, module: moduleName)))) }
            if let selected = probe.spec.targets.ingresses {
                let targets = ScrapeJob.IngressTargets(selector: selected.selector, namespaces: planner.scope(selected.namespaceSelector, own: probe.namespace),
                                                       prober: prober, form: Self.ingressForm(probe.spec.module), jobLabel: name, dropHostless: true)
                let found = ingressTargetCount(targets)
                if found == 0 { report(.warning, "spec.targets.ingresses", "matches no Ingress host yet; the probe follows Ingresses as they appear") }
                count += found
                jobs.append(job("/ingresses", .ingresses(targets)))
            }
            if let selected = probe.spec.targets.pods {
                let form = Self.podForm(probe.spec.module)
                let targets = ScrapeJob.PodTargets(selector: selected.selector, namespaces: planner.scope(selected.namespaceSelector, own: probe.namespace),
                                                   port: form == .host ? nil : selected.port, podTargetLabels: [], filterRunning: true, jobLabel: nil,
                                                   probe: ScrapeJob.ProbeRewrite(prober: prober, form: form))
                let found = podTargetCount(targets)
                if found == 0 { report(.warning, "spec.targets.pods", "matches no running pod\(selected.port.map { " with port \($0)" } ?? "") yet; the probe follows pods as they appear") }
                count += found
                jobs.append(job("/pods", .pods(targets)))
            }
            guard count > 0 || probe.spec.targets.ingresses != nil || probe.spec.targets.pods != nil else {
                report(.error, "spec.targets", "resolves to no target: no static hosts, and the services selector matches no Service port; the probe is not rendered")
                continue
            }
            plan.jobs += jobs
            plan.modules.append((moduleName, probe))
            plan.targetCounts[reference] = count
        }
        // Separate accesses: `plan` is captured by `report`, so overlapping ones would trap.
        var counts = plan.targetCounts
        var diagnostics = plan.diagnostics
        let operatorJobs = operatorJobs(stack, operatorProbes, counts: &counts, diagnostics: &diagnostics)
        plan.jobs += operatorJobs
        plan.targetCounts = counts
        plan.diagnostics = diagnostics
        return plan
    }

    /// How an Ingress rule becomes a target for each kind of module.
    static func ingressForm(_ module: NetworkProbeSpec.Module) -> ScrapeJob.IngressTargets.TargetForm {
        switch module {
        case .http: .url
        case .tcp, .dns: .hostPort
        case .tls: .tlsHostPort
        case .icmp: .host
        }
    }

    /// How a pod's discovered address becomes a target for each kind of module.
    static func podForm(_ module: NetworkProbeSpec.Module) -> ScrapeJob.ProbeRewrite.TargetForm {
        switch module {
        case .http: .httpURL
        case .tcp, .tls, .dns: .address
        case .icmp: .host
        }
    }

    /// Targets the Ingress job has in the snapshot (rules without a host count only where kept).
    func ingressTargetCount(_ targets: ScrapeJob.IngressTargets) -> Int {
        ingresses.filter { FileSDGenerator.selects($0, targets) }
            .reduce(0) { total, ingress in
                total + ingress.rules.reduce(0) { count, rule in
                    guard !targets.dropHostless || !rule.host.isEmpty else { return count }
                    guard targets.form != .tlsHostPort || ingress.scheme(of: rule.host) == "https" else { return count }
                    return count + (rule.paths.map { $0.count } ?? 1)
                }
            }
    }

    /// Distinct targets the pod job has in the snapshot (one per pod for ICMP, else per matching port).
    func podTargetCount(_ targets: ScrapeJob.PodTargets) -> Int {
        var count = 0
        pods.pods(matching: targets.selector, in: targets.namespaces) { pod in
            guard FileSDGenerator.selects(pod, targets) else { return }
            if targets.probe?.form == .host {
                count += 1
            } else {
                count += PodDiscoveryLabels(pod).targets.filter { FileSDGenerator.keeps($0, port: targets.port) }.count
            }
        }
        return count
    }

    /// prometheus-operator Probes the stack's `probeSelector` selects, as `generateProbeConfig`
    /// renders them: the `module` parameter first, then `params`; `honor_timestamps: true`;
    /// `jobName` as the `job` label; static targets with the static config's relabelings after
    /// the prober address, or else Ingress targets with the Ingress relabelings; the prober's
    /// TLS and authentication; the module is the prober's own.
    func operatorJobs(_ stack: MonitoringStack, _ all: [PrometheusOperatorProbe], counts: inout [ObjectReference: Int], diagnostics: inout [Diagnostic]) -> [ScrapeJob] {
        guard let selector = stack.spec.probeSelector else { return [] }
        let selected = all
            .filter { selector.matches($0.metadata.labels) && planner.selects(stack.spec.monitorNamespaceSelector, namespace: $0.namespace, own: stack.namespace) }
            .sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        return selected.compactMap { probe in
            let spec = probe.spec
            let reference = ObjectReference(kind: PrometheusOperatorKind.probe.rawValue, namespace: probe.namespace, name: probe.name)
            guard let security = planner.security(spec.security, namespace: probe.namespace, field: "spec", reference: reference, source: probe.source,
                                                  stack: stack, diagnostics: &diagnostics) else { return nil }
            var endpoint = NetworkMonitorSpec.Endpoint(port: nil, path: spec.prober.path, interval: spec.interval, scrapeTimeout: spec.scrapeTimeout,
                                                       scheme: spec.prober.scheme?.lowercased() == "https" ? .https : .http,
                                                       metricRelabelings: spec.metricRelabelings)
            endpoint.endpointLabel = nil
            endpoint.honorTimestamps = true
            var params: [String: [String]] = [:]
            if let module = spec.module { params["module"] = [module] }
            for param in spec.params where !(param.name == "module" && spec.module != nil) { params[param.name, default: []] += param.values }
            endpoint.params = params
            let name = "probe/\(probe.namespace)/\(probe.name)"
            let targets: ScrapeJob.Targets
            if spec.staticConfig == nil, let ingress = spec.ingress {
                endpoint.relabelings = ingress.relabelings
                let selected = ScrapeJob.IngressTargets(selector: ingress.selector, namespaces: planner.scope(ingress.namespaceSelector, own: probe.namespace),
                                                        prober: spec.prober.url, form: .url, jobLabel: spec.jobName)
                counts[reference] = ingressTargetCount(selected)
                targets = .ingresses(selected)
            } else {
                endpoint.relabelings = spec.staticConfig?.relabelings ?? []
                var labels = spec.staticConfig?.labels ?? [:]
                if labels["namespace"] == nil { labels["namespace"] = probe.namespace }
                // No static config: a job without targets, as prometheus-operator renders it.
                let hosts = spec.staticConfig?.targets ?? []
                counts[reference] = hosts.count
                targets = .probe(.init(groups: hosts.isEmpty ? [] : [.init(targets: hosts, labels: labels)], prober: spec.prober.url,
                                       module: spec.module, jobLabel: spec.jobName))
            }
            var job = ScrapeJob(name: name, fileStem: "probe_\(probe.namespace)_\(probe.name)", monitor: reference, jobLabel: name, targets: targets, endpoint: endpoint)
            job.limits = spec.limits
            job.security = security
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
