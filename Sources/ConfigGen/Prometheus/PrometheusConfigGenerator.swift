import DataTree
import KubeModel
import NetWatchAPI

/// Builds `prometheus.yml` trees from a stack's plan. Sections come in Prometheus's documented
/// order (global, alerting, rule_files, remote_write, scrape_configs); jobs in plan order.
enum PrometheusConfigGenerator {
    static func config(for plan: StackPlan, shard: RelabelRules.Shard?) -> Node {
        let settings = plan.stack.spec.prometheus
        var root = Mapping()
        var global = Mapping()
        global["scrape_interval"] = .string(settings.scrapeInterval.text)
        global["scrape_timeout"] = .string(settings.scrapeTimeout.text)
        global["evaluation_interval"] = .string(settings.evaluationInterval.text)
        if !settings.externalLabels.isEmpty { global["external_labels"] = .sortedStringMap(settings.externalLabels) }
        root["global"] = .mapping(global)

        if !settings.alertmanagers.isEmpty {
            let alertmanagers: [Node] = settings.alertmanagers.compactMap { endpoint in
                guard let url = URLParts(endpoint.url) else { return nil }
                var mapping = Mapping()
                mapping["scheme"] = .string(url.scheme)
                if !url.path.isEmpty && url.path != "/" { mapping["path_prefix"] = .string(url.path) }
                mapping["static_configs"] = [["targets": [.string(url.host)]]]
                return .mapping(mapping)
            }
            root["alerting"] = ["alertmanagers": .sequence(alertmanagers)]
        }
        if !plan.ruleFiles.isEmpty { root["rule_files"] = .strings(plan.ruleFiles) }
        if !settings.remoteWrite.isEmpty {
            root["remote_write"] = .sequence(settings.remoteWrite.map { endpoint in
                var mapping = Mapping()
                mapping["url"] = .string(endpoint.url)
                if let name = endpoint.name { mapping["name"] = .string(name) }
                return .mapping(mapping)
            })
        }
        root["scrape_configs"] = .sequence(plan.jobs.map { scrapeConfig($0, settings: settings, shard: shard) })
        return .mapping(root)
    }

    static func scrapeConfig(_ job: ScrapeJob, settings: PrometheusSettings, shard: RelabelRules.Shard?) -> Node {
        let endpoint = job.endpoint
        var mapping = Mapping()
        mapping["job_name"] = .string(job.name)
        if endpoint.honorLabels { mapping["honor_labels"] = true }
        if let honor = endpoint.honorTimestamps { mapping["honor_timestamps"] = .bool(honor) }
        if let track = endpoint.trackTimestampsStaleness { mapping["track_timestamps_staleness"] = .bool(track) }
        if let interval = job.interval { mapping["scrape_interval"] = .string(interval.text) }
        if let timeout = job.scrapeTimeout { mapping["scrape_timeout"] = .string(timeout.text) }
        func httpSettings() {
            mapping["metrics_path"] = .string(endpoint.path)
            if !endpoint.params.isEmpty {
                mapping["params"] = .mapping(Mapping(endpoint.params.keys.sorted().map { ($0, .strings(endpoint.params[$0] ?? [])) }))
            }
            mapping["scheme"] = .string(endpoint.scheme.rawValue)
            if let proxy = endpoint.proxyURL { mapping["proxy_url"] = .string(proxy) }
            if let follow = endpoint.followRedirects { mapping["follow_redirects"] = .bool(follow) }
            if let http2 = endpoint.enableHTTP2 { mapping["enable_http2"] = .bool(http2) }
            for key in ResolvedSecurity.order {
                if let value = job.security.keys[key] { mapping[key] = value }
            }
        }
        func kubernetesSD(role: String, _ namespaces: ScrapeJob.NamespaceScope) {
            // A selector that matched no namespace selects nothing: Prometheus reads an empty
            // `names` as every namespace, so the job gets no discovery at all instead.
            guard !namespaces.isEmpty else { return }
            var sd = Mapping()
            sd["role"] = .string(role)
            if case .names(let names) = namespaces { sd["namespaces"] = ["names": .strings(names)] }
            if job.attachNodeMetadata { sd["attach_metadata"] = ["node": true] }
            mapping["kubernetes_sd_configs"] = [.mapping(sd)]
        }
        /// Kubernetes discovery of `role`, or the job's file_sd document netwatch resolved.
        func discovery(role: String, _ namespaces: ScrapeJob.NamespaceScope) {
            switch settings.discovery {
            case .kubernetes: kubernetesSD(role: role, namespaces)
            case .static: mapping["file_sd_configs"] = [["files": [.string(FileSDGenerator.relativePath(job))]]]
            }
        }
        switch job.targets {
        case .pods(let targets):
            httpSettings()
            discovery(role: "pod", targets.namespaces)
            mapping["relabel_configs"] = .sequence(RelabelRules.podJob(job, targets, discovery: settings.discovery, shard: shard))
        case .services(let targets):
            httpSettings()
            discovery(role: targets.role.rawValue, targets.namespaces)
            mapping["relabel_configs"] = .sequence(RelabelRules.serviceJob(job, targets, shard: shard))
        case .staticGroups(let groups):
            mapping["static_configs"] = .sequence(groups.map { group in
                var labels = group.labels
                if labels["job"] == nil { labels["job"] = job.jobLabel }
                return ["targets": .strings(group.targets), "labels": .sortedStringMap(labels)]
            })
            mapping["relabel_configs"] = .sequence(RelabelRules.staticJob(job, shard: shard))
        case .probe(let targets):
            // prometheus-operator's Probe with static targets (`generateProbeConfig`).
            httpSettings()
            mapping["static_configs"] = .sequence(targets.groups.map { ["targets": .strings($0.targets), "labels": .sortedStringMap($0.labels)] })
            mapping["relabel_configs"] = .sequence(RelabelRules.probeJob(job, targets, shard: shard))
        case .nodes:
            httpSettings()
            discovery(role: "node", .all)
            mapping["relabel_configs"] = .sequence(RelabelRules.nodeJob(job, shard: shard))
        case .ingresses(let targets):
            // prometheus-operator's Probe with Ingress targets.
            httpSettings()
            discovery(role: "ingress", targets.namespaces)
            mapping["relabel_configs"] = .sequence(RelabelRules.ingressProbeJob(job, targets, discovery: settings.discovery, shard: shard))
        }
        for limit in job.limits.setLimits { mapping[limit.key] = .int(limit.value) }
        if !job.limits.scrapeProtocols.isEmpty { mapping["scrape_protocols"] = .strings(job.limits.scrapeProtocols) }
        if let size = job.limits.bodySizeLimit { mapping["body_size_limit"] = .string(size) }
        if !job.metricRelabelings.isEmpty {
            mapping["metric_relabel_configs"] = .sequence(job.metricRelabelings.map(\.prometheusNode))
        }
        return .mapping(mapping)
    }
}
