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

    @Test("a PodMonitor becomes a NetworkMonitor; unsupported fields are warnings naming them")
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
        #expect(problems == [
            "warning spec.sampleLimit: not supported by netwatch; ignored",
            "warning spec.podMetricsEndpoints[0].bearerTokenSecret: not supported by netwatch; ignored (the target is scraped without it)",
        ])
    }

    @Test("errors name prometheus-operator's fields: missing selector, a bad relabel regex, no port")
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
        #expect(noPort.0 == nil)
        #expect(noPort.1.first?.hasPrefix("error spec.endpoints[0]: names no port") == true, "\(noPort.1)")
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
