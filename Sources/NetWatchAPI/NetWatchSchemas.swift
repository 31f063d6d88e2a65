public import KubeModel

/// The OpenAPI schemas of netwatch's resources: emitted into the CRDs and used by `decode` to
/// reject what the API server would reject.
public enum NetWatchSchemas {
    static let duration = StringCheck(name: "prometheus-duration", pattern: PrometheusDuration.pattern) { text in
        do throws(DurationError) {
            _ = try PrometheusDuration(parsing: text)
            return nil
        } catch {
            return error.description
        }
    }

    static func durationField(_ description: String) -> Schema {
        .string(description: description, check: duration)
    }

    static let endpoint = Schema.object(
        properties: [
            .init("url", .string(description: "URL of the endpoint.", pattern: "^https?://")),
            .init("name", .string(description: "Optional name.")),
        ],
        required: ["url"]
    )

    /// A CEL rule: exactly one of the fields is set.
    static func exactlyOne(_ fields: [String]) -> String {
        fields.map { "(has(self.\($0)) ? 1 : 0)" }.joined(separator: " + ") + " == 1"
    }

    public static let monitoringStackSpec: Schema = .object(
        properties: [
            .init("prometheus", .object(properties: [
                .init("scrapeInterval", durationField("How often to scrape targets by default (default 30s).")),
                .init("scrapeTimeout", durationField("Scrape timeout by default (default 10s); at most scrapeInterval.")),
                .init("evaluationInterval", durationField("How often rules are evaluated (default: scrapeInterval).")),
                .init("externalLabels", .map(values: .string(), description: "Labels added to every series and alert leaving this Prometheus.")),
                .init("discovery", .string(
                    description: "kubernetes: Prometheus discovers pods itself (kubernetes_sd_configs); static: netwatch writes file_sd target files.",
                    enumValues: PrometheusSettings.Discovery.allCases.map(\.rawValue))),
                .init("shards", .integer(description: "Number of Prometheus shards; > 1 splits targets by hashmod, one config per shard.", minimum: 1, maximum: 256)),
                .init("remoteWrite", .array(items: endpoint, description: "Remote-write receivers.")),
                .init("alertmanagers", .array(items: endpoint, description: "Alertmanagers to send alerts to.")),
                .init("output", .validated(.object(properties: [
                    .init("configMap", .string(description: "Deliver prometheus.yml in this ConfigMap.")),
                    .init("secret", .string(description: "Deliver prometheus.yml in this Secret (gzipped above 512 KiB).")),
                    .init("directory", .string(description: "Write prometheus.yml to this directory (out-of-cluster operator).")),
                ], description: "Where the configuration goes; exactly one field. Default: ConfigMap <stack>-prometheus."),
                rules: [.init(exactlyOne(["configMap", "secret", "directory"]), message: "set exactly one of configMap, secret or directory")])),
                .init("reload", .object(properties: [
                    .init("url", .string(description: "Prometheus's /-/reload URL.", pattern: "^https?://")),
                ], required: ["url"], description: "How to make Prometheus load new configuration; omit when it reloads itself.")),
                .init("podSelector", .map(values: .string(), description: "Labels of this Prometheus's pods in the stack's namespace (default app.kubernetes.io/name: prometheus); FlowPolicies let them scrape.")),
                .init("version", .string(description: "The Prometheus version the configuration is for, e.g. 2.53.0 (default: a current 3.x). Below 3.0 a basic-auth user name is written into prometheus.yml, which cannot read it from a file.", pattern: "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?$")),
            ], description: "The Prometheus this stack configures.")),
            .init("monitorSelector", .labelSelector("NetworkMonitors to use: {} selects all, absent selects none.")),
            .init("monitorNamespaceSelector", NamespaceSelector.schema("Namespaces NetworkMonitors are taken from; absent: the stack's own namespace.")),
            .init("alertSelector", .labelSelector("NetworkAlerts to use: {} selects all, absent selects none.")),
            .init("dashboardSelector", .labelSelector("NetworkDashboards to use: {} selects all, absent selects none.")),
            .init("probeSelector", .labelSelector("NetworkProbes to use, from the namespaces monitorNamespaceSelector names: {} selects all, absent selects none.")),
            .init("clusterTargets", .object(properties: [
                .init("kubelet", .boolean(description: "Scrape every node's kubelet (/metrics over HTTPS on its port, with the service account's token and CA).")),
                .init("cadvisor", .boolean(description: "Scrape every node's cAdvisor (/metrics/cadvisor): per-pod CPU, memory and network counters without injecting anything.")),
                .init("apiServer", .boolean(description: "Scrape the API server (the kubernetes Service's https endpoints).")),
                .init("coreDNS", .boolean(description: "Scrape CoreDNS (kube-system pods labelled k8s-app: kube-dns, port metrics/9153).")),
            ], description: "Cluster components to scrape besides the monitors; they need discovery: kubernetes.")),
            .init("scrapeClasses", .array(items: ScrapeClass.schema, description: "Endpoint defaults (TLS, authorization, relabelings) monitors pick by spec.scrapeClass; one may be the default.")),
            .init("grafana", .object(properties: [
                .init("datasourceUID", .string(description: "UID of the Prometheus data source in Grafana (default prometheus).")),
                .init("delivery", .string(description: "How dashboards reach Grafana.", enumValues: GrafanaSettings.Delivery.allCases.map(\.rawValue))),
            ], description: "Grafana settings for generated dashboards.")),
        ],
        description: "One Prometheus (with its Alertmanagers and Grafana) whose configuration netwatch owns."
    )

    static let relabelings = Schema.array(items: RelabelConfig.schema, description: "Relabeling steps applied to targets before scraping.")

    /// prometheus-operator's monitor-level limits and protocols, shared by NetworkMonitor.
    static let limitProperties: [Schema.Property] = [
        .init("sampleLimit", .integer(description: "Scrapes with more samples fail (sample_limit).", minimum: 0)),
        .init("targetLimit", .integer(description: "More targets than this fail every scrape of the job (target_limit).", minimum: 0)),
        .init("labelLimit", .integer(description: "Most labels per sample (label_limit).", minimum: 0)),
        .init("labelNameLengthLimit", .integer(description: "Longest label name (label_name_length_limit).", minimum: 0)),
        .init("labelValueLengthLimit", .integer(description: "Longest label value (label_value_length_limit).", minimum: 0)),
        .init("keepDroppedTargets", .integer(description: "Dropped targets kept for the targets page; 0 keeps all (keep_dropped_targets, Prometheus 2.47+).", minimum: 0)),
        .init("bodySizeLimit", .string(description: "Largest uncompressed response body, e.g. 10MB (body_size_limit).", pattern: "^(0|[0-9]+(B|KB|MB|GB|TB|PB|EB|KiB|MiB|GiB|TiB|PiB|EiB))$")),
        .init("scrapeProtocols", .array(items: .string(enumValues: ScrapeLimits.protocols), description: "Protocols to negotiate, in preference order (scrape_protocols, Prometheus 2.49+).")),
    ]

    public static let networkMonitorSpec: Schema = .object(
        properties: [
            .init("selector", .labelSelector("Pods to scrape: {} selects all pods, absent selects none (for monitors with only staticTargets).")),
            .init("namespaceSelector", NamespaceSelector.schema("Namespaces to find pods in; absent: the monitor's own namespace.")),
            .init("endpoints", .array(items: .object(
                properties: [
                    .init("port", .intOrString(description: "Container port name (metrics) or number (9100).")),
                    .init("path", .string(description: "HTTP path (default /metrics).", pattern: "^/")),
                    .init("interval", durationField("Scrape interval (default: the stack's).")),
                    .init("scrapeTimeout", durationField("Scrape timeout (default: the stack's, at most interval).")),
                    .init("scheme", .string(description: "http or https (any case).",
                                            enumValues: NetworkMonitorSpec.Endpoint.Scheme.allCases.flatMap { [$0.rawValue, $0.rawValue.uppercased()] })),
                    .init("honorLabels", .boolean(description: "Keep the target's labels when they clash with server-side ones.")),
                    .init("honorTimestamps", .boolean(description: "Use the timestamps the target exposes (Prometheus's default: true).")),
                    .init("trackTimestampsStaleness", .boolean(description: "Mark series with exposed timestamps stale when they disappear (Prometheus 2.48+).")),
                    .init("filterRunning", .boolean(description: "Drop pods in phase Failed or Succeeded (default true).")),
                    .init("params", .map(values: .array(items: .string()), description: "HTTP query parameters.")),
                    .init("proxyUrl", .string(description: "HTTP proxy for the scrapes.", pattern: "^(http|https|socks5)://.+$")),
                    .init("followRedirects", .boolean(description: "Follow HTTP 3xx redirects (Prometheus's default: true).")),
                    .init("enableHttp2", .boolean(description: "Allow HTTP/2 (Prometheus's default: true).")),
                    .init("relabelings", relabelings),
                    .init("metricRelabelings", .array(items: RelabelConfig.schema, description: "Relabeling steps applied to scraped samples.")),
                ] + ScrapeSecurity.properties,
                required: ["port"]
            ), description: "Ports to scrape on the selected pods; one Prometheus job each.")),
            .init("networkExporter", .boolean(description: "Also scrape netwatch's injected per-pod network exporter sidecar.")),
            .init("podTargetLabels", .array(items: .string(), description: "Pod labels copied onto every target.")),
            .init("jobLabel", .string(description: "Pod label whose value becomes the job label (default <namespace>/<name>).")),
            .init("scrapeClass", .string(description: "Scrape class of the MonitoringStack whose TLS, authorization and relabelings apply (default: the stack's default class).")),
            .init("attachMetadata", .object(properties: [
                .init("node", .boolean(description: "Add the node's labels (__meta_kubernetes_node_*) to pod targets; Kubernetes discovery only.")),
            ], description: "Extra metadata on targets.")),
        ] + limitProperties + [
            .init("staticTargets", .array(items: .object(
                properties: [
                    .init("targets", .array(items: .string(), description: "host:port addresses.")),
                    .init("labels", .map(values: .string(), description: "Labels for these targets.")),
                ],
                required: ["targets"]
            ), description: "Hosts outside the cluster, e.g. node_exporter on VMs.")),
        ],
        description: "What to scrape: pods by label and port, and hosts outside the cluster."
    )

    static let ruleGroup = Schema.object(
        properties: [
            .init("name", .string(description: "Group name, unique in the object.")),
            .init("interval", durationField("Evaluation interval (default: the stack's).")),
            .init("rules", .array(items: .object(
                properties: [
                    .init("alert", .string(description: "Alert name (an alerting rule).")),
                    .init("record", .string(description: "Series name to record (a recording rule), level:metric:operations.")),
                    .init("expr", .intOrString(description: "PromQL expression.")),
                    .init("for", durationField("How long the condition must hold before the alert fires.")),
                    .init("keep_firing_for", durationField("How long the alert keeps firing after the condition clears.")),
                    .init("labels", .map(values: .string(), description: "Labels added to the alert or recorded series.")),
                    .init("annotations", .map(values: .string(), description: "Annotations (templates) of the alert.")),
                ],
                required: ["expr"]
            ), description: "Alerting and recording rules.")),
        ],
        required: ["name"]
    )

    public static let networkAlertsSpec: Schema = .object(
        properties: [
            .init("packs", .array(items: .object(
                properties: [
                    .init("name", .string(description: "node-network, tcp, sockets, conntrack, mesh or netwatch.")),
                    .init("excludeDevices", .string(description: "Regex of network devices left out (default: the loopback, container veths and the devices of common CNIs; docs/alerts.md lists them).")),
                    .init("thresholds", .map(values: .number(), description: "Threshold key to value; keys per pack (docs/alerts.md).")),
                    .init("for", .map(values: .string(), description: "Alert name to for duration.")),
                    .init("severity", .map(values: .string(), description: "Alert name to severity (critical, warning, info).")),
                    .init("disabled", .array(items: .string(), description: "Alert names left out.")),
                ],
                required: ["name"]
            ), description: "Built-in rule packs; a pack with a bad knob is skipped alone.")),
            .init("groups", .array(items: ruleGroup, description: "Custom rule groups in Prometheus rule-file syntax.")),
            .init("runbookBaseURL", .string(description: "Base of runbook_url annotations: <base>/<AlertName>.md.", pattern: "^https?://")),
        ],
        description: "Alerting and recording rules: built-in network packs and custom groups."
    )

    static let ipProtocol = Schema.string(description: "Address family tried first when a name resolves to both: ip4 (default) or ip6.", enumValues: NetworkProbeSpec.ipProtocols)
    static let regexes = Schema.array(items: .string(), description: "RE2 regular expressions.")

    public static let networkProbeSpec: Schema = .object(
        properties: [
            .init("prober", .validated(.object(properties: [
                .init("url", .string(description: "The blackbox_exporter as host:port, without a scheme.", pattern: "^[^/:]+(:[0-9]+)?$")),
                .init("service", .object(properties: [
                    .init("name", .string(description: "Service name.")),
                    .init("namespace", .string(description: "Default: the probe's namespace.")),
                    .init("port", .integer(description: "Service port.", minimum: 1, maximum: 65535)),
                ], required: ["name", "port"], description: "The Service in front of the blackbox_exporter (its cluster DNS name is used).")),
                .init("scheme", .string(description: "http (default) or https.", enumValues: ["http", "https"])),
                .init("path", .string(description: "The prober's probe path (default /probe).", pattern: "^/")),
            ], description: "The blackbox_exporter that runs the probe; exactly one of url or service."),
            rules: [.init(exactlyOne(["url", "service"]), message: "set exactly one of url or service")])),
            .init("module", .validated(.object(properties: [
                .init("icmp", .object(properties: [.init("ipProtocol", ipProtocol)], description: "ICMP echo (ping): the target is a host.")),
                .init("tcp", .object(properties: [
                    .init("ipProtocol", ipProtocol),
                    .init("send", .string(description: "Sent once connected.")),
                    .init("expect", .string(description: "RE2 regex a line of the answer must match.")),
                ], description: "TCP connect: the target is host:port.")),
                .init("http", .object(properties: [
                    .init("method", .string(description: "Request method (default GET).", enumValues: ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])),
                    .init("validStatusCodes", .array(items: .integer(minimum: 100, maximum: 599), description: "Accepted status codes; absent: any 2xx.")),
                    .init("headers", .map(values: .string(), description: "Request headers.")),
                    .init("bodyMustMatch", regexes),
                    .init("bodyMustNotMatch", regexes),
                    .init("followRedirects", .boolean(description: "Follow redirects (default true).")),
                    .init("requireTLS", .boolean(description: "Fail unless the final response came over TLS.")),
                    .init("insecureSkipVerify", .boolean(description: "Accept any server certificate.")),
                    .init("ipProtocol", ipProtocol),
                ], description: "HTTP request: the target is a URL.")),
                .init("dns", .object(properties: [
                    .init("queryName", .string(description: "The name to look up.")),
                    .init("queryType", .string(description: "Record type (default A).", enumValues: NetworkProbeSpec.DNS.queryTypes)),
                    .init("validRcodes", .array(items: .string(enumValues: NetworkProbeSpec.DNS.rcodes), description: "Accepted response codes (default NOERROR).")),
                    .init("answerMustMatch", .array(items: .string(), description: "RE2 regexes; each must match at least one answer record, e.g. the expected address.")),
                    .init("transport", .string(description: "udp (default) or tcp.", enumValues: ["udp", "tcp"])),
                    .init("ipProtocol", ipProtocol),
                ], required: ["queryName"], description: "DNS query: the target is the resolver, host[:port].")),
                .init("tls", .object(properties: [
                    .init("serverName", .string(description: "The name the certificate must carry (default: the target host).")),
                    .init("insecureSkipVerify", .boolean(description: "Report the certificate without verifying it.")),
                    .init("ipProtocol", ipProtocol),
                ], description: "TLS handshake over TCP, for certificate expiry: the target is host:port.")),
            ], description: "How to probe; exactly one field."),
            rules: [.init(exactlyOne(NetworkProbeSpec.Module.kinds), message: "set exactly one of \(NetworkProbeSpec.Module.kinds.joined(separator: ", "))")])),
            .init("targets", .object(properties: [
                .init("static", .array(items: .string(), description: "Hosts as the module takes them: host (icmp), host:port (tcp, tls), a URL (http), a resolver host[:port] (dns).")),
                .init("services", .object(properties: [
                    .init("selector", .labelSelector("Services to probe, by label.")),
                    .init("namespaceSelector", NamespaceSelector.schema("Where to look; absent: the probe's namespace.")),
                    .init("port", .intOrString(description: "The port name or number; absent: every port.")),
                ], required: ["selector"], description: "Services by label, probed by their cluster DNS name.")),
                .init("ingresses", .object(properties: [
                    .init("selector", .labelSelector("Ingresses to probe, by label.")),
                    .init("namespaceSelector", NamespaceSelector.schema("Where to look; absent: the probe's namespace.")),
                ], required: ["selector"], description: "Ingresses by label: each rule's host and path (http: scheme://host/path; tcp: host:80 or host:443; tls: TLS hosts on 443; icmp: the host).")),
                .init("pods", .object(properties: [
                    .init("selector", .labelSelector("Pods to probe, by label.")),
                    .init("namespaceSelector", NamespaceSelector.schema("Where to look; absent: the probe's namespace.")),
                    .init("port", .intOrString(description: "The container port name or number; required except for icmp, which probes the pod IP.")),
                ], required: ["selector"], description: "Running pods by label, probed at their pod IP.")),
            ], description: "What to probe.")),
            .init("interval", durationField("How often to probe (default: the stack's scrape interval).")),
            .init("scrapeTimeout", durationField("Probe timeout (default: the stack's); at most interval.")),
            .init("labels", .map(values: .string(), description: "Labels on every target.")),
        ],
        required: ["prober", "module", "targets"],
        description: "A synthetic check run by a blackbox_exporter, and its module."
    )

    public static let networkDashboardSpec: Schema = .object(
        properties: [
            .init("preset", .string(description: "node-network, pod-network, sockets, mesh, service-graph or probes; absent: only the custom panels.")),
            .init("title", .string(description: "Dashboard title (default from the preset).")),
            .init("folder", .string(description: "Grafana folder.")),
            .init("excludeDevices", .string(description: "Regex of network devices left out (default: the loopback, container veths and the devices of common CNIs; docs/alerts.md lists them).")),
            .init("thresholds", .map(values: .number(), description: "Threshold key to value; keys per preset (docs/dashboards.md).")),
            .init("panels", .array(items: .object(
                properties: [
                    .init("title", .string(description: "Panel title.")),
                    .init("expr", .string(description: "PromQL; Grafana variables like $instance and $__rate_interval are allowed.")),
                    .init("unit", .string(description: "Grafana unit id, e.g. bps, Bps, pps, percentunit, reqps, ms.")),
                    .init("type", .string(description: "Panel type.", enumValues: NetworkDashboardSpec.Panel.Kind.allCases.map(\.rawValue))),
                    .init("legend", .string(description: "Legend format, e.g. {{device}}.")),
                ],
                required: ["title", "expr"]
            ), description: "Custom panels appended after the preset's.")),
        ],
        description: "A Grafana dashboard: a preset tuned by thresholds, plus custom panels."
    )

    public static let sidecarInjectorSpec: Schema = .validated(sidecarInjectorFields, rules: [
        .init("!has(self.sidecar) || self.sidecar != 'none' || (has(self.containers) && size(self.containers) > 0) || (has(self.initContainers) && size(self.initContainers) > 0)",
              message: "with sidecar: none the injector needs containers or initContainers; it would inject nothing"),
    ])

    static let sidecarInjectorFields: Schema = .object(
        properties: [
            .init("namespaceSelector", .labelSelector("Namespaces whose pods are injected (by their labels); absent: only pods annotated netwatch.dev/inject: \"true\".")),
            .init("podSelector", .labelSelector("Pods of those namespaces to inject; absent or {}: all of them.")),
            .init("sidecar", .string(description: "The built-in sidecar: networkExporter (node_exporter with netdev, netstat, sockstat, conntrack in the pod's network namespace) or none.",
                                     enumValues: SidecarInjectorSpec.BuiltInSidecar.allCases.map(\.rawValue))),
            .init("image", .string(description: "Image of the built-in network exporter (default \(SidecarInjectorSpec.defaultImage)).")),
            .init("containers", .array(items: .any(description: "A core/v1 Container."), description: "Custom sidecar containers, injected after the built-in one.")),
            .init("initContainers", .array(items: .any(description: "A core/v1 Container."), description: "Custom init containers, run before the pod's own.")),
            .init("volumes", .array(items: .any(description: "A core/v1 Volume."), description: "Volumes the custom containers mount.")),
            .init("nativeSidecar", .string(description: "auto: an init container with restartPolicy Always where the cluster supports it (1.29+), so Jobs complete; always; never.",
                                           enumValues: SidecarInjectorSpec.NativeSidecar.allCases.map(\.rawValue))),
            .init("failurePolicy", .string(description: "What the API server does when the webhook fails: Ignore (default; the pod starts without the sidecar) or Fail.",
                                           enumValues: SidecarInjectorSpec.FailurePolicy.allCases.map(\.rawValue))),
        ],
        description: "Which pods get which sidecar: the built-in per-pod network exporter and custom containers."
    )

    public static let flowPolicySpec: Schema = .object(
        properties: [
            .init("podSelector", .labelSelector("Workloads in this namespace (by their pod template's labels) that get policies; {} or absent: all of them.")),
            .init("sources", .array(items: .validated(.object(properties: [
                .init("ipfix", .object(properties: [
                    .init("port", .integer(description: "UDP port netwatch receives NetFlow v9 and IPFIX on (default 4739).", minimum: 1, maximum: 65535)),
                ], description: "NetFlow v9 and IPFIX exporters (softflowd, pmacct, nProbe, routers, cloud exporters).")),
                .init("hubble", .object(properties: [
                    .init("path", .validated(.string(description: "A file of hubble observe -o json records (the Hubble exporter's), mounted into netwatch."),
                                             rules: [.init("self.startsWith('/')", message: "must be an absolute path in netwatch's container")])),
                ], required: ["path"], description: "Cilium's Hubble flows.")),
                .init("istio", .object(properties: [
                    .init("prometheusURL", .string(description: "The Prometheus that scrapes Istio's sidecars.", pattern: "^https?://")),
                    .init("window", durationField("How far back to query (default: the learning window).")),
                ], required: ["prometheusURL"], description: "Istio's service graph from istio_requests_total and istio_tcp_connections_opened_total.")),
            ], description: "One flow source: set exactly one field."),
                rules: [.init(exactlyOne(["ipfix", "hubble", "istio"]), message: "set exactly one of ipfix, hubble or istio")]), description: "Where observed connections come from.")),
            .init("learning", .object(properties: [
                .init("window", durationField("Observation before a proposal can be Stable (default 24h).")),
                .init("stabilization", durationField("How long a workload's proposal must stay unchanged after the window to be Stable (default 10m).")),
            ], description: "Learning -> Stabilizing -> Stable, per workload.")),
            .init("mode", .string(description: "observe: proposals in status and render output; audit: proposals freeze when Stable and connections they would deny are reported; enforce: frozen proposals are applied.",
                                  enumValues: FlowPolicySpec.Mode.allCases.map(\.rawValue))),
            .init("dns", .object(properties: [
                .init("allow", .boolean(description: "Allow DNS to kube-dns/CoreDNS and the resolvers, observed or not (default true).")),
                .init("resolvers", .array(items: .string(), description: "Extra resolver addresses, e.g. NodeLocal DNS 169.254.20.10.")),
            ], description: "DNS egress.")),
            .init("defaultDeny", .object(properties: [
                .init("ingress", .boolean(description: "Deny ingress not allowed by a policy (default true).")),
                .init("egress", .boolean(description: "Deny egress not allowed by a policy (default false).")),
            ], description: "A separate default-deny policy for the selected workloads, written only when all of them are Stable.")),
            .init("widenOnNewConnections", .boolean(description: "In audit and enforce mode, widen a Stable workload's policy with a new connection instead of only reporting it (default false).")),
        ],
        description: "NetworkPolicies learned from observed traffic: proposed, audited, then enforced."
    )
}
