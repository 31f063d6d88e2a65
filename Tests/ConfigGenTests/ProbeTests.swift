import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
import Testing
import YAML

/// NetworkProbes: what is accepted, the Prometheus job (prometheus-operator's Probe shape), the
/// blackbox_exporter module, Services resolved to targets, and the errors that skip one probe.
@Suite("NetworkProbe rendering")
struct ProbeTests {
    static func snapshot(_ yaml: String, discovery: String = "static") throws -> (Snapshot, [Diagnostic]) {
        let text = """
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: s, namespace: mon}
            spec:
              prometheus: {discovery: \(discovery), output: {configMap: prom}}
              probeSelector: {}
              monitorNamespaceSelector: {any: true}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: blackbox, namespace: mon}
            spec: {ports: [{name: http, port: 9115}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop, labels: {app: web}}
            spec: {ports: [{name: http, port: 80}, {name: https, port: 443}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: other, labels: {app: web}}
            spec: {ports: [{name: http, port: 8080}]}
            ---
            \(yaml)
            """
        let documents = try YAMLParser().parse(text, file: "t.yaml")
        let raws = documents.flatMap { ObjectReader.rawObjects(from: $0.node, source: SourceLocation(file: "t.yaml", line: $0.line)).0 }
        return Snapshot.decode(raws)
    }

    static func file(_ result: RenderResult, _ suffix: String) -> String {
        result.artifacts.first { $0.path.hasSuffix(suffix) }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
    }

    static func probe(_ name: String, _ spec: String, namespace: String = "shop") -> String {
        """
        apiVersion: netwatch.dev/v1alpha1
        kind: NetworkProbe
        metadata: {name: \(name), namespace: \(namespace)}
        spec:
        \(spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    @Test("a static HTTP probe: one job shaped like prometheus-operator's Probe, and its module in blackbox.yml and its ConfigMap")
    func staticHTTPProbe() throws {
        let (snapshot, problems) = try Self.snapshot(Self.probe("front", """
            prober: {url: "blackbox.mon.svc:9115"}
            module: {http: {validStatusCodes: [200, 204], bodyMustMatch: ["ok"], headers: {Host: shop.example.com}}}
            targets: {static: ["https://shop.example.com/health"]}
            interval: 15s
            scrapeTimeout: 5s
            labels: {team: shop}
            """))
        #expect(problems.isEmpty, "\(problems)")
        let result = render(snapshot)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let config = Self.file(result, "mon/s/prometheus/prometheus.yml")
        #expect(config.contains("""
            - job_name: probe/shop/front
              scrape_interval: 15s
              scrape_timeout: 5s
              metrics_path: /probe
              params:
                module:
                - shop_front
              scheme: http
              static_configs:
              - targets:
                - https://shop.example.com/health
                labels:
                  namespace: shop
                  team: shop
              relabel_configs:
              - source_labels:
                - job
                target_label: __tmp_prometheus_job_name
              - source_labels:
                - __address__
                target_label: __param_target
              - source_labels:
                - __param_target
                target_label: instance
              - target_label: __address__
                replacement: blackbox.mon.svc:9115
            """), "\(config)")
        #expect(!config.contains("file_sd_configs"), "probe targets are static_configs in either discovery mode")
        let modules = Self.file(result, "mon/s/blackbox/blackbox.yml")
        #expect(modules == """
            modules:
              shop_front:
                prober: http
                timeout: 5s
                http:
                  preferred_ip_protocol: ip4
                  method: GET
                  valid_status_codes:
                  - 200
                  - 204
                  headers:
                    Host: shop.example.com
                  fail_if_body_not_matches_regexp:
                  - ok

            """, "\(modules)")
        let configMap = Self.file(result, "mon/s/kubernetes/configmap-prom-blackbox.yaml")
        #expect(configMap.contains("name: prom-blackbox") && configMap.contains("blackbox.yml: |"), "\(configMap)")
        let artifact = try #require(result.artifacts.first { $0.path.hasSuffix("blackbox/blackbox.yml") })
        #expect(artifact.role == .proberConfig && !artifact.needsReload, "a module change reloads the prober, not Prometheus")
    }

    @Test("each module kind becomes blackbox_exporter's prober and options")
    func moduleKinds() throws {
        let prober = "prober: {url: \"127.0.0.1:9115\"}"
        let (snapshot, problems) = try Self.snapshot([
            Self.probe("ping", "\(prober)\nmodule: {icmp: {ipProtocol: ip6}}\ntargets: {static: [db.example.com]}"),
            Self.probe("port", "\(prober)\nmodule: {tcp: {send: PING, expect: PONG}}\ntargets: {static: [\"cache:6379\"]}"),
            Self.probe("cert", "\(prober)\nmodule: {tls: {serverName: shop.example.com}}\ntargets: {static: [\"shop:443\"]}"),
            Self.probe("resolver", "\(prober)\nmodule: {dns: {queryName: shop.example.com, queryType: AAAA, answerMustMatch: [\"2001:db8::1\"], transport: tcp}}\ntargets: {static: [\"10.0.0.10:53\"]}"),
        ].joined(separator: "\n---\n"))
        #expect(problems.isEmpty, "\(problems)")
        let modules = Self.file(render(snapshot), "blackbox/blackbox.yml")
        #expect(modules.contains("""
              shop_cert:
                prober: tcp
                tcp:
                  preferred_ip_protocol: ip4
                  tls: true
                  tls_config:
                    server_name: shop.example.com
            """), "\(modules)")
        #expect(modules.contains("""
              shop_ping:
                prober: icmp
                icmp:
                  preferred_ip_protocol: ip6
            """), "\(modules)")
        #expect(modules.contains("""
                tcp:
                  preferred_ip_protocol: ip4
                  query_response:
                  - send: PING
                  - expect: PONG
            """), "\(modules)")
        #expect(modules.contains("""
                dns:
                  preferred_ip_protocol: ip4
                  transport_protocol: tcp
                  query_name: shop.example.com
                  query_type: AAAA
                  valid_rcodes:
                  - NOERROR
                  validate_answer_rrs:
                    fail_if_none_matches_regexp:
                    - 2001:db8::1
            """), "\(modules)")
    }

    @Test("Services by label become targets by their cluster DNS name, per port or the named one, labelled with namespace and service")
    func serviceTargets() throws {
        let (snapshot, _) = try Self.snapshot([
            Self.probe("all-ports", "prober: {service: {name: blackbox, namespace: mon, port: 9115}}\nmodule: {tcp: {}}\ntargets: {services: {selector: {matchLabels: {app: web}}}}"),
            Self.probe("named", "prober: {url: \"bb:9115\"}\nmodule: {http: {}}\ntargets: {services: {selector: {matchLabels: {app: web}}, port: http, namespaceSelector: {any: true}}}"),
            Self.probe("ping", "prober: {url: \"bb:9115\"}\nmodule: {icmp: {}}\ntargets: {services: {selector: {matchLabels: {app: web}}, port: 443}}"),
        ].joined(separator: "\n---\n"))
        let result = render(snapshot)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let config = Self.file(result, "mon/s/prometheus/prometheus.yml")
        #expect(config.contains("""
              static_configs:
              - targets:
                - web.shop.svc:80
                - web.shop.svc:443
                labels:
                  namespace: shop
                  service: web
              relabel_configs:
            """), "every port, in the probe's own namespace only: \(config)")
        #expect(config.contains("replacement: blackbox.mon.svc:9115"), "the prober Service by its DNS name")
        #expect(config.contains("""
              - targets:
                - http://api.other.svc:8080
                labels:
                  namespace: other
                  service: api
              - targets:
                - http://web.shop.svc:80
            """), "the named port, across namespaces, as URLs for http: \(config)")
        #expect(config.contains("""
              - targets:
                - web.shop.svc
                labels:
            """), "icmp probes hosts: \(config)")
    }

    @Test("a probe whose prober Service is unknown, or whose targets resolve to nothing, is an error for it alone; the others render")
    func badProbesAreSkippedAlone() throws {
        let (snapshot, problems) = try Self.snapshot([
            Self.probe("lost", "prober: {service: {name: nowhere, port: 9115}}\nmodule: {icmp: {}}\ntargets: {static: [a]}"),
            Self.probe("empty", "prober: {url: \"bb:9115\"}\nmodule: {icmp: {}}\ntargets: {services: {selector: {matchLabels: {app: none}}}}"),
            Self.probe("good", "prober: {url: \"bb:9115\"}\nmodule: {icmp: {}}\ntargets: {static: [a]}"),
        ].joined(separator: "\n---\n"))
        #expect(problems.isEmpty)
        let result = render(snapshot)
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.map { "\($0.object?.name ?? "")|\($0.field ?? "")" }.sorted() == ["empty|spec.targets", "lost|spec.prober.service"], "\(result.diagnostics)")
        #expect(errors.first { $0.object?.name == "lost" }?.message.contains("Service shop/nowhere") == true)
        let config = Self.file(result, "mon/s/prometheus/prometheus.yml")
        #expect(config.contains("probe/shop/good") && !config.contains("probe/shop/lost") && !config.contains("probe/shop/empty"))
        let modules = Self.file(result, "blackbox/blackbox.yml")
        #expect(modules.contains("shop_good:") && !modules.contains("shop_lost:"))
    }

    @Test("bad specs are rejected with the field: two module kinds, an unknown module option, a scheme in the prober URL, nothing to probe, a bad regex")
    func rejectedSpecs() throws {
        let cases: [(spec: String, field: String, message: String)] = [
            ("prober: {url: \"bb:9115\"}\nmodule: {icmp: {}, tcp: {}}\ntargets: {static: [a]}", "spec.module", "exactly one of icmp, tcp, http, dns, tls"),
            ("prober: {url: \"bb:9115\"}\nmodule: {http: {statusCodes: [200]}}\ntargets: {static: [a]}", "spec.module.http.statusCodes", "unknown field"),
            ("prober: {url: \"http://bb:9115\"}\nmodule: {icmp: {}}\ntargets: {static: [a]}", "spec.prober.url", ""),
            ("prober: {url: \"bb:9115\"}\nmodule: {icmp: {}}\ntargets: {}", "spec.targets", "names nothing to probe"),
            ("prober: {url: \"bb:9115\"}\nmodule: {http: {bodyMustMatch: [\"(unclosed\"]}}\ntargets: {static: [a]}", "spec.module.http.bodyMustMatch[0]", ""),
            ("prober: {url: \"bb:9115\", service: {name: bb, port: 1}}\nmodule: {icmp: {}}\ntargets: {static: [a]}", "spec.prober", "exactly one of url or service"),
        ]
        for (spec, field, message) in cases {
            let (snapshot, problems) = try Self.snapshot(Self.probe("bad", spec))
            #expect(snapshot.networkProbes.isEmpty, "\(spec)")
            let problem = problems.first { $0.object?.kind == "NetworkProbe" }
            #expect(problem?.field == field, "\(spec): \(problems)")
            #expect(problem?.source?.file == "t.yaml")
            if !message.isEmpty { #expect(problem?.message.contains(message) == true, "\(spec): \(problems)") }
        }
    }

    @Test("probes render the same under both discovery modes, and a stack without probeSelector has none")
    func discoveryModesAndSelection() throws {
        let probe = Self.probe("p", "prober: {url: \"bb:9115\"}\nmodule: {tcp: {}}\ntargets: {static: [\"db:5432\"]}")
        let jobs = try ["static", "kubernetes"].map { discovery in
            let config = Self.file(render(try Self.snapshot(probe, discovery: discovery).0), "mon/s/prometheus/prometheus.yml")
            return config.components(separatedBy: "- job_name: ").first { $0.hasPrefix("probe/shop/p") } ?? ""
        }
        #expect(!jobs[0].isEmpty && jobs[0] == jobs[1])
        var (snapshot, _) = try Self.snapshot(probe)
        snapshot.monitoringStacks[0].spec.probeSelector = nil
        let result = render(snapshot)
        #expect(!Self.file(result, "mon/s/prometheus/prometheus.yml").contains("probe/"))
        #expect(!result.artifacts.contains { $0.role == .proberConfig })
    }

    @Test("a prometheus-operator Probe is selected by probeSelector and rendered with its own module and prober authorization; static targets win over Ingress ones; unsupported fields are warnings naming the field")
    func prometheusOperatorProbe() throws {
        let (snapshot, problems) = try Self.snapshot("""
            apiVersion: monitoring.coreos.com/v1
            kind: Probe
            metadata: {name: site, namespace: shop}
            spec:
              jobName: blackbox
              prober: {url: "bb.mon.svc:9115", path: /probe}
              module: http_2xx
              params: [{name: module, values: [ignored]}, {name: debug, values: ["false"]}]
              targets:
                staticConfig: {static: ["https://shop.example.com"], labels: {env: prod}}
                ingress: {selector: {}}
              authorization: {credentials: {name: token, key: t}}
              scrapeClass: default
            """)
        #expect(problems.map { "\($0.severity.rawValue) \($0.field ?? "")" }.sorted() == ["warning spec.scrapeClass"], "\(problems)")
        let result = render(snapshot)
        #expect(!result.diagnostics.contains { $0.severity == .error }, "\(result.diagnostics)")
        let config = Self.file(result, "mon/s/prometheus/prometheus.yml")
        #expect(config.contains("""
            - job_name: probe/shop/site
              honor_timestamps: true
              metrics_path: /probe
              params:
                debug:
                - "false"
                module:
                - http_2xx
            """), "module first-class, its params entry skipped: \(config)")
        #expect(config.contains("""
              - target_label: job
                replacement: blackbox
            """), "\(config)")
        #expect(config.contains("env: prod") && config.contains("namespace: shop"))
        #expect(config.contains("static_configs:") && !config.contains("role: ingress"), "staticConfig wins, as in prometheus-operator: \(config)")
        #expect(config.contains("authorization:") && config.contains("credentials_file:") && config.contains("credentials/secret_shop_token_t"),
                "the prober's authorization is read from the Secret's file: \(config)")
        #expect(!result.artifacts.contains { $0.role == .proberConfig }, "a Probe's module is the prober's own: no blackbox.yml")
    }
}
