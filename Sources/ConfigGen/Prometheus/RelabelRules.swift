import DataTree
import KubeModel
import NetWatchAPI

/// The relabel rules of a pod scrape job, in prometheus-operator's order for PodMonitors
/// (`generatePodMonitorConfig`): job-name bookkeeping, running filter, pod selector, port
/// filter, standard target labels, pod target labels, job and endpoint labels, the user's
/// relabelings, then sharding.
///
/// With static discovery netwatch has already applied the selection (pod selector, phase and
/// port), so those steps are left out and the rest is identical: targets get the same labels
/// under both discovery modes.
enum RelabelRules {
    static func rule(_ pairs: (String, Node)...) -> Node {
        .mapping(Mapping(pairs))
    }

    static func podJob(_ job: ScrapeJob, _ targets: ScrapeJob.PodTargets, discovery: PrometheusSettings.Discovery, shard: Shard?) -> [Node] {
        var rules: [Node] = [rule(("source_labels", ["job"]), ("target_label", "__tmp_prometheus_job_name"))]
        if discovery == .kubernetes {
            if targets.filterRunning { rules.append(runningFilter) }
            rules += selectorRules(targets.selector, of: "pod")
            switch targets.port {
            case .string(let name)?:
                rules.append(rule(("action", "keep"), ("source_labels", ["__meta_kubernetes_pod_container_port_name"]), ("regex", .string(escape(name)))))
            case .int(let number)?:
                rules.append(rule(("action", "keep"), ("source_labels", ["__meta_kubernetes_pod_container_port_number"]), ("regex", .string(String(number)))))
            case nil:
                break
            }
        }
        rules.append(rule(("source_labels", ["__meta_kubernetes_namespace"]), ("target_label", "namespace")))
        // A pod probed by its IP alone is one target, whichever container declares ports.
        if targets.probe?.form != .host {
            rules.append(rule(("source_labels", ["__meta_kubernetes_pod_container_name"]), ("target_label", "container")))
        }
        rules.append(rule(("source_labels", ["__meta_kubernetes_pod_name"]), ("target_label", "pod")))
        rules += copiedLabels(targets.podTargetLabels, of: "pod")
        rules.append(rule(("target_label", "job"), ("replacement", .string(job.jobLabel))))
        if let jobLabel = targets.jobLabel { rules.append(jobFromLabel(jobLabel, of: "pod")) }
        if let endpoint = job.endpoint.endpointLabel { rules.append(rule(("target_label", "endpoint"), ("replacement", .string(endpoint)))) }
        rules += job.relabelings.map(\.prometheusNode)
        if let probe = targets.probe {
            // Probed pods: the pod's address becomes the target, the prober the address.
            switch probe.form {
            case .address: rules.append(rule(("source_labels", ["__address__"]), ("target_label", "__param_target")))
            case .httpURL: rules.append(rule(("source_labels", ["__address__"]), ("target_label", "__param_target"), ("replacement", "http://${1}")))
            case .host: rules.append(rule(("source_labels", ["__meta_kubernetes_pod_ip"]), ("target_label", "__param_target")))
            }
            rules.append(rule(("source_labels", ["__param_target"]), ("target_label", "instance")))
            rules.append(rule(("target_label", "__address__"), ("replacement", .string(probe.prober))))
            return rules + sharding(shard, on: "__param_target")
        }
        rules += sharding(shard)
        return rules
    }

    /// A probe of Ingress hosts in prometheus-operator's order (`generateProbeConfig` with
    /// `targets.ingress`): job-name bookkeeping, the Ingress selector, the target from scheme,
    /// host and path, `namespace` and `ingress` labels, the address kept in
    /// `__tmp_ingress_address`, `instance`, the prober; then the user's relabelings and
    /// sharding on the target. Prometheus's Ingress discovery gives a rule without a host an
    /// empty address, so such a rule yields no `__param_target`, as prometheus-operator's does.
    static func ingressProbeJob(_ job: ScrapeJob, _ targets: ScrapeJob.IngressTargets, discovery: PrometheusSettings.Discovery, shard: Shard?) -> [Node] {
        var rules = [rule(("source_labels", ["job"]), ("target_label", "__tmp_prometheus_job_name"))]
        if let jobLabel = targets.jobLabel { rules.append(rule(("target_label", "job"), ("replacement", .string(jobLabel)))) }
        // Under static discovery netwatch selected the Ingresses already.
        if discovery == .kubernetes { rules += selectorRules(targets.selector, of: "ingress") }
        if targets.dropHostless { rules.append(rule(("action", "keep"), ("source_labels", ["__address__"]), ("regex", ".+"))) }
        let parts: Node = ["__meta_kubernetes_ingress_scheme", "__address__", "__meta_kubernetes_ingress_path"]
        switch targets.form {
        case .url:
            rules.append(rule(("source_labels", parts), ("separator", ";"), ("regex", "(.+);(.+);(.+)"), ("target_label", "__param_target"),
                              ("replacement", "${1}://${2}${3}"), ("action", "replace")))
        case .hostPort, .tlsHostPort:
            if targets.form == .tlsHostPort {
                rules.append(rule(("action", "keep"), ("source_labels", ["__meta_kubernetes_ingress_scheme"]), ("regex", "https")))
            }
            for (scheme, port) in [("http", 80), ("https", 443)] {
                rules.append(rule(("source_labels", ["__meta_kubernetes_ingress_scheme", "__address__"]), ("separator", ";"), ("regex", .string("\(scheme);(.+)")),
                                  ("target_label", "__param_target"), ("replacement", .string("${1}:\(port)")), ("action", "replace")))
            }
        case .host:
            rules.append(rule(("source_labels", ["__address__"]), ("regex", "(.+)"), ("target_label", "__param_target"), ("action", "replace")))
        }
        rules.append(rule(("source_labels", ["__meta_kubernetes_namespace"]), ("target_label", "namespace")))
        rules.append(rule(("source_labels", ["__meta_kubernetes_ingress_name"]), ("target_label", "ingress")))
        rules.append(rule(("source_labels", ["__address__"]), ("separator", ";"), ("regex", "(.*)"), ("target_label", "__tmp_ingress_address"),
                          ("replacement", "$1"), ("action", "replace")))
        rules.append(rule(("source_labels", ["__param_target"]), ("target_label", "instance")))
        rules.append(rule(("target_label", "__address__"), ("replacement", .string(targets.prober))))
        return rules + job.relabelings.map(\.prometheusNode) + sharding(shard, on: "__param_target")
    }

    static let runningFilter = rule(("action", "drop"), ("source_labels", ["__meta_kubernetes_pod_phase"]), ("regex", "(Failed|Succeeded)"))

    /// `[__meta_kubernetes_<object>_label_<l>] → <l>`, copied only when non-empty.
    static func copiedLabels(_ labels: [String], of object: String) -> [Node] {
        labels.sorted().map { label in
            let name = LabelSanitizer.sanitize(label)
            return rule(
                ("source_labels", .strings(["__meta_kubernetes_\(object)_label_\(name)"])), ("target_label", .string(name)),
                ("regex", "(.+)"), ("replacement", "${1}"))
        }
    }

    /// `job` from an object label when the label is non-empty; the earlier default stays otherwise.
    static func jobFromLabel(_ label: String, of object: String) -> Node {
        rule(
            ("source_labels", .strings(["__meta_kubernetes_\(object)_label_\(LabelSanitizer.sanitize(label))"])), ("target_label", "job"),
            ("regex", "(.+)"), ("replacement", "${1}"))
    }

    /// A probe's rules in prometheus-operator's order: job-name bookkeeping, the target becomes
    /// `__param_target` and `instance`, the prober becomes `__address__`; then the user's
    /// relabelings and sharding on the probed target.
    static func probeJob(_ job: ScrapeJob, _ targets: ScrapeJob.ProbeTargets, shard: Shard?) -> [Node] {
        var rules = [rule(("source_labels", ["job"]), ("target_label", "__tmp_prometheus_job_name"))]
        if let jobLabel = targets.jobLabel { rules.append(rule(("target_label", "job"), ("replacement", .string(jobLabel)))) }
        return rules + [
            rule(("source_labels", ["__address__"]), ("target_label", "__param_target")),
            rule(("source_labels", ["__param_target"]), ("target_label", "instance")),
            rule(("target_label", "__address__"), ("replacement", .string(targets.prober))),
        ] + job.relabelings.map(\.prometheusNode) + sharding(shard, on: "__param_target")
    }

    /// A job over every Node's kubelet: job-name bookkeeping, the node's name as `node`, the
    /// job label, the user's relabelings, sharding. Node discovery sets `instance` to the node
    /// name itself.
    static func nodeJob(_ job: ScrapeJob, shard: Shard?) -> [Node] {
        [
            rule(("source_labels", ["job"]), ("target_label", "__tmp_prometheus_job_name")),
            rule(("source_labels", ["__meta_kubernetes_node_name"]), ("target_label", "node")),
            rule(("target_label", "job"), ("replacement", .string(job.jobLabel))),
        ] + job.relabelings.map(\.prometheusNode) + sharding(shard)
    }

    static func staticJob(_ job: ScrapeJob, shard: Shard?) -> [Node] {
        [rule(("source_labels", ["job"]), ("target_label", "__tmp_prometheus_job_name"))] + job.relabelings.map(\.prometheusNode) + sharding(shard)
    }

    /// The relabel rules of a ServiceMonitor job over EndpointSlice (or Endpoints) discovery, in
    /// prometheus-operator's order (`generateServiceMonitorConfig`): job-name bookkeeping,
    /// Service selector, port filter, node/pod from the address target, standard labels, the
    /// running filter, target labels, job and endpoint labels, the user's relabelings, sharding.
    static func serviceJob(_ job: ScrapeJob, _ targets: ScrapeJob.ServiceTargets, shard: Shard?) -> [Node] {
        let prefix = "__meta_kubernetes_\(targets.role.labelPrefix)"
        var rules: [Node] = [rule(("source_labels", ["job"]), ("target_label", "__tmp_prometheus_job_name"))]
        rules += selectorRules(targets.selector, of: "service")
        switch targets.port {
        case .servicePort(let name):
            rules.append(rule(("action", "keep"), ("source_labels", .strings(["\(prefix)_port_name"])), ("regex", .string(escape(name)))))
        case .targetPort(.string(let name)):
            rules.append(rule(("action", "keep"), ("source_labels", ["__meta_kubernetes_pod_container_port_name"]), ("regex", .string(escape(name)))))
        case .targetPort(.int(let number)):
            rules.append(rule(("action", "keep"), ("source_labels", ["__meta_kubernetes_pod_container_port_number"]), ("regex", .string(String(number)))))
        case .allPorts:
            break
        }
        for (kind, label) in [("Node", "node"), ("Pod", "pod")] {
            rules.append(rule(
                ("source_labels", .strings(["\(prefix)_address_target_kind", "\(prefix)_address_target_name"])),
                ("separator", ";"), ("regex", .string("\(kind);(.*)")), ("replacement", "${1}"), ("target_label", .string(label))))
        }
        rules.append(rule(("source_labels", ["__meta_kubernetes_namespace"]), ("target_label", "namespace")))
        rules.append(rule(("source_labels", ["__meta_kubernetes_service_name"]), ("target_label", "service")))
        rules.append(rule(("source_labels", ["__meta_kubernetes_pod_name"]), ("target_label", "pod")))
        rules.append(rule(("source_labels", ["__meta_kubernetes_pod_container_name"]), ("target_label", "container")))
        if targets.filterRunning { rules.append(runningFilter) }
        rules += copiedLabels(targets.targetLabels, of: "service")
        rules += copiedLabels(targets.podTargetLabels, of: "pod")
        rules.append(rule(("source_labels", ["__meta_kubernetes_service_name"]), ("target_label", "job"), ("replacement", "${1}")))
        if let jobLabel = targets.jobLabel { rules.append(jobFromLabel(jobLabel, of: "service")) }
        if let endpoint = job.endpoint.endpointLabel { rules.append(rule(("target_label", "endpoint"), ("replacement", .string(endpoint)))) }
        rules += job.relabelings.map(\.prometheusNode)
        rules += sharding(shard)
        return rules
    }

    /// matchLabels (sorted keys) then matchExpressions, as keep/drop rules on the pod's (or
    /// Service's) label and label-present meta labels.
    static func selectorRules(_ selector: LabelSelector, of object: String) -> [Node] {
        var rules: [Node] = []
        for key in selector.matchLabels.keys.sorted() {
            let name = LabelSanitizer.sanitize(key)
            rules.append(rule(
                ("action", "keep"),
                ("source_labels", .strings(["__meta_kubernetes_\(object)_label_\(name)", "__meta_kubernetes_\(object)_labelpresent_\(name)"])),
                ("regex", .string("(\(escape(selector.matchLabels[key] ?? "")));true"))))
        }
        for requirement in selector.matchExpressions {
            let name = LabelSanitizer.sanitize(requirement.key)
            let alternatives = requirement.values.map(escape).joined(separator: "|")
            switch requirement.operator {
            case .in, .notIn:
                rules.append(rule(
                    ("action", requirement.operator == .in ? "keep" : "drop"),
                    ("source_labels", .strings(["__meta_kubernetes_\(object)_label_\(name)", "__meta_kubernetes_\(object)_labelpresent_\(name)"])),
                    ("regex", .string("(\(alternatives));true"))))
            case .exists, .doesNotExist:
                rules.append(rule(
                    ("action", requirement.operator == .exists ? "keep" : "drop"),
                    ("source_labels", .strings(["__meta_kubernetes_\(object)_labelpresent_\(name)"])),
                    ("regex", "true")))
            }
        }
        return rules
    }

    /// Label values are matched literally: RE2 metacharacters are escaped (label values only
    /// contain `[A-Za-z0-9._-]`, so only `.` needs it, but escape defensively).
    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            if "\\.+*?()|[]{}^$".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// One shard's share of the targets: hash the address, keep this shard's remainder.
    struct Shard: Hashable {
        var index: Int
        var count: Int
    }

    static func sharding(_ shard: Shard?, on label: String = "__address__") -> [Node] {
        guard let shard, shard.count > 1 else { return [] }
        return [
            rule(("source_labels", .strings([label])), ("target_label", "__tmp_hash"), ("modulus", .int(shard.count)), ("action", "hashmod")),
            rule(("source_labels", ["__tmp_hash"]), ("regex", .string(String(shard.index))), ("action", "keep")),
        ]
    }
}
