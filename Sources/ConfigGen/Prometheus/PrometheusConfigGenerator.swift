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
        var mapping = Mapping()
        mapping["job_name"] = .string(job.name)
        if job.honorLabels { mapping["honor_labels"] = true }
        if let interval = job.interval { mapping["scrape_interval"] = .string(interval.text) }
        if let timeout = job.scrapeTimeout { mapping["scrape_timeout"] = .string(timeout.text) }
        switch job.targets {
        case .pods(let targets):
            mapping["metrics_path"] = .string(job.path)
            mapping["scheme"] = .string(job.scheme.rawValue)
            switch settings.discovery {
            case .kubernetes:
                var sd = Mapping()
                sd["role"] = "pod"
                if case .names(let names) = targets.namespaces { sd["namespaces"] = ["names": .strings(names)] }
                mapping["kubernetes_sd_configs"] = [.mapping(sd)]
            case .static:
                mapping["file_sd_configs"] = [["files": [.string(FileSDGenerator.relativePath(job))]]]
            }
            mapping["relabel_configs"] = .sequence(RelabelRules.podJob(job, targets, discovery: settings.discovery, shard: shard))
        case .services(let targets):
            // Only planned under Kubernetes discovery (the planner skips them under static).
            mapping["metrics_path"] = .string(job.path)
            mapping["scheme"] = .string(job.scheme.rawValue)
            var sd = Mapping()
            sd["role"] = "endpointslice"
            if case .names(let names) = targets.namespaces { sd["namespaces"] = ["names": .strings(names)] }
            mapping["kubernetes_sd_configs"] = [.mapping(sd)]
            mapping["relabel_configs"] = .sequence(RelabelRules.serviceJob(job, targets, shard: shard))
        case .staticGroups(let groups):
            mapping["static_configs"] = .sequence(groups.map { group in
                var labels = group.labels
                if labels["job"] == nil { labels["job"] = job.jobLabel }
                return ["targets": .strings(group.targets), "labels": .sortedStringMap(labels)]
            })
            mapping["relabel_configs"] = .sequence(RelabelRules.staticJob(job, shard: shard))
        }
        if !job.metricRelabelings.isEmpty {
            mapping["metric_relabel_configs"] = .sequence(job.metricRelabelings.map(\.prometheusNode))
        }
        return .mapping(mapping)
    }
}
