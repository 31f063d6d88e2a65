import DataTree
import KubeModel
import NetWatchAPI
import Testing
import YAML

func raw(_ yaml: String) throws -> RawObject {
    let node = try #require(try YAMLParser().parse(yaml, file: "test.yaml").first?.node)
    let (objects, problems) = ObjectReader.rawObjects(from: node, source: SourceLocation(file: "test.yaml", line: 1))
    #expect(problems.isEmpty)
    return try #require(objects.first)
}

func problems(_ yaml: String) throws -> [String] {
    let object = try raw(yaml)
    let kind = try #require(NetWatchKind(rawValue: object.type.kind))
    return kind.decode(object).1.map { "\($0.field ?? ""): \($0.message)" }
}

@Suite("NetWatch resource validation")
struct ValidationTests {
    @Test("a valid NetworkMonitor decodes with defaults")
    func validMonitor() throws {
        let object = try raw("""
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: web}
            spec:
              selector: {matchLabels: {app: web}}
              endpoints: [{port: metrics}]
            """)
        guard case .networkMonitor(let monitor)? = NetWatchKind.networkMonitor.decode(object).0 else {
            Issue.record("did not decode")
            return
        }
        #expect(monitor.namespace == "default")
        #expect(monitor.spec.endpoints.first?.path == "/metrics")
        #expect(monitor.spec.endpoints.first?.scheme == .http)
    }

    @Test("reports every problem with its field path")
    func everyProblem() throws {
        let found = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: web, namespace: shop}
            spec:
              selectr: {}
              selector: {matchExpressions: [{key: app, operator: Like}]}
              endpoints:
              - {port: metrics, interval: 30 seconds}
            """)
        #expect(found.contains { $0.hasPrefix("spec.selectr: unknown field \"selectr\"") })
        #expect(found.contains { $0.hasPrefix("spec.selector.matchExpressions[0].operator: \"Like\" is not one of") })
        #expect(found.contains { $0.hasPrefix("spec.endpoints[0].interval: \"30 seconds\" is not a Prometheus duration") })
    }

    @Test("semantic checks: port range, bad regex, timeout over interval, bad target")
    func semantics() throws {
        let found = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: web}
            spec:
              selector: {}
              endpoints:
              - port: 70000
                interval: 10s
                scrapeTimeout: 20s
                relabelings: [{sourceLabels: [a], regex: "(?=x)", targetLabel: b}]
              staticTargets: [{targets: ["192.168.1.10"]}]
            """)
        #expect(found.contains { $0.hasPrefix("spec.endpoints[0].port: port 70000 is out of range") })
        #expect(found.contains { $0.hasPrefix("spec.endpoints[0].scrapeTimeout: 20s is longer than interval 10s") })
        #expect(found.contains { $0.hasPrefix("spec.endpoints[0].relabelings[0].regex: Prometheus cannot compile this regex") })
        #expect(found.contains { $0.hasPrefix("spec.staticTargets[0].targets[0]: \"192.168.1.10\" has no port") })
    }

    @Test("MonitoringStack: timeout over interval and conflicting namespace selector")
    func stackProblems() throws {
        let found = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: main}
            spec:
              prometheus: {scrapeInterval: 10s, scrapeTimeout: 1m, discovery: dns}
            """)
        #expect(found.contains { $0.hasPrefix("spec.prometheus.discovery: \"dns\" is not one of: kubernetes, static") })
        let more = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: main}
            spec:
              prometheus: {scrapeInterval: 10s, scrapeTimeout: 1m}
              monitorNamespaceSelector: {any: true, matchNames: [a]}
            """)
        #expect(more.contains { $0.hasPrefix("spec.prometheus.scrapeTimeout: 1m is longer than scrapeInterval 10s") })
        #expect(more.contains { $0.hasPrefix("spec.monitorNamespaceSelector: use only one of") })
    }
}

@Suite("Prometheus durations")
struct DurationTests {
    @Test("accepts Prometheus's forms", arguments: [("0", 0), ("30s", 30_000), ("1h30m", 5_400_000), ("1w", 604_800_000), ("150ms", 150), ("1m0s", 60_000)])
    func accepts(text: String, milliseconds: Int) throws {
        #expect(try PrometheusDuration(parsing: text).milliseconds == milliseconds)
    }

    @Test("rejects what Prometheus rejects", arguments: ["", "30", "1.5s", "30S", "1s1m", "1m1m", "-1s", "s", "1 s"])
    func rejects(text: String) {
        #expect(throws: DurationError.self) { _ = try PrometheusDuration(parsing: text) }
    }
}
