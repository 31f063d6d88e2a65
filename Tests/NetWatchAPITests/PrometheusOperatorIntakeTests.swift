import KubeModel
import NetWatchAPI
import Testing

@Suite("prometheus-operator PodMonitor and ServiceMonitor intake")
struct PrometheusOperatorIntakeTests {
    func decode(_ yaml: String) throws -> (PrometheusOperatorKind.Resource?, [String]) {
        let object = try raw(yaml)
        let kind = try #require(PrometheusOperatorKind(rawValue: object.type.kind))
        let (resource, diagnostics) = kind.decode(object)
        return (resource, diagnostics.map { "\($0.severity.rawValue) \($0.field ?? ""): \($0.message)" })
    }

    @Test("a PodMonitor becomes a NetworkMonitor, its bearer token Secret and limits kept")
    func podMonitor() throws {
        let (resource, problems) = try decode("""
            apiVersion: monitoring.coreos.com/v1
            kind: PodMonitor
            metadata: {name: web, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              namespaceSelector: {any: true}
              sampleLimit: 1000
              podMetricsEndpoints:
              - {port: metrics, interval: 15s, bearerTokenSecret: {name: s, key: t}}
              - {portNumber: 9100, path: /node}
            """)
        guard case .podMonitor(let monitor)? = resource else { Issue.record("not decoded: \(problems)"); return }
        #expect(monitor.spec.endpoints.map(\.port) == [.string("metrics"), .int(9100)])
        #expect(monitor.spec.endpoints[1].path == "/node")
        #expect(monitor.spec.namespaceSelector?.any == true)
        #expect(monitor.spec.limits.sampleLimit == 1000)
        // prometheus-operator labels `endpoint` from port (or targetPort), never from portNumber.
        #expect(monitor.spec.endpoints.map(\.endpointLabel) == ["metrics", nil])
        #expect(monitor.spec.endpoints[0].security.bearerTokenSecret == SecretKeySelector(name: "s", key: "t"))
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("endpoint fields prometheus-operator renders are kept: filterRunning, scheme in any case, params, proxy, limits, protocols, jobLabel, attachMetadata")
    func endpointFields() throws {
        let (resource, problems) = try decode("""
            apiVersion: monitoring.coreos.com/v1
            kind: PodMonitor
            metadata: {name: jobs, namespace: batch}
            spec:
              selector: {}
              jobLabel: app
              attachMetadata: {node: true}
              targetLimit: 50
              labelLimit: 30
              labelNameLengthLimit: 100
              labelValueLengthLimit: 200
              keepDroppedTargets: 10
              bodySizeLimit: 10MB
              scrapeProtocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]
              podMetricsEndpoints:
              - port: metrics
                scheme: HTTPS
                filterRunning: false
                honorTimestamps: false
                trackTimestampsStaleness: true
                params: {module: [http_2xx]}
                proxyUrl: http://proxy:3128
                followRedirects: false
                enableHttp2: false
                relabelings: [{sourceLabels: [a], regex: "", targetLabel: b}]
              - {}
            """)
        guard case .podMonitor(let monitor)? = resource else { Issue.record("not decoded: \(problems)"); return }
        #expect(problems.isEmpty, "\(problems)")
        let endpoint = monitor.spec.endpoints[0]
        #expect(endpoint.scheme == .https)
        #expect(endpoint.filterRunning == false)
        #expect(endpoint.honorTimestamps == false && endpoint.trackTimestampsStaleness == true)
        #expect(endpoint.params == ["module": ["http_2xx"]])
        #expect(endpoint.proxyURL == "http://proxy:3128" && endpoint.followRedirects == false && endpoint.enableHTTP2 == false)
        // prometheus-operator leaves an empty regex out, so Prometheus's (.*) applies.
        #expect(endpoint.relabelings[0].regex == nil)
        // No port at all: every container port, and no endpoint label.
        #expect(monitor.spec.endpoints[1].port == nil && monitor.spec.endpoints[1].endpointLabel == nil)
        #expect(monitor.spec.jobLabel == "app" && monitor.spec.attachNodeMetadata)
        let limits = monitor.spec.limits
        #expect(limits.setLimits.map(\.key) == ["target_limit", "label_limit", "label_name_length_limit", "label_value_length_limit", "keep_dropped_targets"])
        #expect(limits.bodySizeLimit == "10MB" && limits.scrapeProtocols == ["OpenMetricsText1.0.0", "PrometheusText0.0.4"])
    }

    @Test("namespaceSelector: {} means the monitor's own namespace, as in prometheus-operator; label selectors there are ignored with a warning")
    func namespaceSelectorSemantics() throws {
        let (empty, _) = try decode("""
            apiVersion: monitoring.coreos.com/v1
            kind: ServiceMonitor
            metadata: {name: api, namespace: shop}
            spec: {selector: {}, namespaceSelector: {}, endpoints: [{port: web}]}
            """)
        guard case .serviceMonitor(let monitor)? = empty else { Issue.record("not decoded"); return }
        #expect(monitor.spec.namespaceSelector == nil)
        let (labelled, problems) = try decode("""
            apiVersion: monitoring.coreos.com/v1
            kind: PodMonitor
            metadata: {name: web, namespace: shop}
            spec: {selector: {}, namespaceSelector: {matchLabels: {team: a}}, podMetricsEndpoints: [{port: web}]}
            """)
        guard case .podMonitor(let podMonitor)? = labelled else { Issue.record("not decoded"); return }
        #expect(podMonitor.spec.namespaceSelector == nil)
        #expect(problems == ["warning spec.namespaceSelector.matchLabels: not a prometheus-operator namespace selector field; ignored (only any and matchNames select namespaces)"])
    }

    @Test("errors name prometheus-operator's fields: missing selector, a bad relabel regex; no port is every port")
    func errorsNameTheirFields() throws {
        let missing = try decode("""
            apiVersion: monitoring.coreos.com/v1
            kind: PodMonitor
            metadata: {name: web}
            spec: {podMetricsEndpoints: [{port: metrics}]}
            """)
        #expect(missing.0 == nil)
        #expect(missing.1.first?.hasPrefix("error spec.selector: required") == true, "\(missing.1)")
        let regex = try decode("""
            apiVersion: monitoring.coreos.com/v1
            kind: PodMonitor
            metadata: {name: web}
            spec:
              selector: {}
              podMetricsEndpoints: [{port: metrics, relabelings: [{sourceLabels: [a], regex: "x(?=y)", action: keep}]}]
            """)
        #expect(regex.0 == nil)
        #expect(regex.1.first?.hasPrefix("error spec.podMetricsEndpoints[0].relabelings[0].regex") == true, "\(regex.1)")
        let noPort = try decode("""
            apiVersion: monitoring.coreos.com/v1
            kind: ServiceMonitor
            metadata: {name: api}
            spec: {selector: {}, endpoints: [{path: /metrics}]}
            """)
        // A ServiceMonitor endpoint without port scrapes every endpoint port, as in prometheus-operator.
        guard case .serviceMonitor(let monitor)? = noPort.0 else { Issue.record("not decoded: \(noPort.1)"); return }
        #expect(monitor.spec.endpoints.map(\.port) == [.allPorts])
        #expect(monitor.spec.endpoints[0].scrape.endpointLabel == nil)
        #expect(noPort.1.isEmpty)
    }

    @Test("a ServiceMonitor keeps how each endpoint chose its port, its target labels and job label")
    func serviceMonitor() throws {
        let (resource, problems) = try decode("""
            apiVersion: monitoring.coreos.com/v1
            kind: ServiceMonitor
            metadata: {name: api, namespace: shop}
            spec:
              selector: {matchLabels: {app: api}}
              jobLabel: app.kubernetes.io/name
              targetLabels: [tier]
              endpoints: [{port: http-metrics}, {targetPort: 9100}, {targetPort: admin}]
            """)
        #expect(problems.isEmpty)
        guard case .serviceMonitor(let monitor)? = resource else { Issue.record("not decoded: \(problems)"); return }
        #expect(monitor.spec.endpoints.map(\.port) == [.servicePort("http-metrics"), .targetPort(.int(9100)), .targetPort(.string("admin"))])
        #expect(monitor.spec.jobLabel == "app.kubernetes.io/name")
        #expect(monitor.spec.targetLabels == ["tier"])
    }
}

@Suite("prometheus-operator PrometheusRule intake")
struct PrometheusRuleIntakeTests {
    @Test("groups are read like NetworkAlerts groups; Thanos-only fields are warnings; a bad expression names its rule and rejects the object")
    func prometheusRule() throws {
        let good = try raw("""
            apiVersion: monitoring.coreos.com/v1
            kind: PrometheusRule
            metadata: {name: r, namespace: shop}
            spec:
              groups:
              - name: g
                partial_response_strategy: warn
                rules: [{alert: A, expr: up == 0, for: 5m}]
            """)
        let (resource, problems) = PrometheusOperatorKind.prometheusRule.decode(good)
        guard case .prometheusRule(let rule)? = resource else { Issue.record("not decoded: \(problems)"); return }
        #expect(rule.spec.groups.map(\.name) == ["g"])
        #expect(problems.map { "\($0.severity.rawValue) \($0.field ?? "")" } == ["warning spec.groups[0].partial_response_strategy"])
        let bad = try raw("""
            apiVersion: monitoring.coreos.com/v1
            kind: PrometheusRule
            metadata: {name: r, namespace: shop}
            spec: {groups: [{name: g, rules: [{alert: Broken, expr: "rate(x)"}]}]}
            """)
        let (none, errors) = PrometheusOperatorKind.prometheusRule.decode(bad)
        #expect(none == nil)
        #expect(errors.first?.field == "spec.groups[0].rules[0].expr")
        #expect(errors.first?.message.hasPrefix("rule Broken: expected type range vector in call to function \"rate\"") == true, "\(errors)")
    }
}
