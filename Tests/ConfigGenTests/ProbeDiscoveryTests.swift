import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
import Testing
import YAML

/// Probes whose targets are discovered rather than listed: Ingress hosts (NetworkProbe
/// `targets.ingresses`, prometheus-operator's Probe `targets.ingress`) and pods (NetworkProbe
/// `targets.pods`), under both discovery modes. Their equality with Prometheus itself is checked
/// by hack/check-sd-fidelity and hack/check-po-parity; these tests pin the shapes.
@Suite("Probes of Ingress hosts and pods")
struct ProbeDiscoveryTests {
    static let cluster = """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: shop, namespace: shop, labels: {probe: "true"}}
        spec:
          ingressClassName: nginx
          tls: [{hosts: ["*.example.com"]}]
          rules:
          - host: shop.example.com
            http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}, {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}]}
          - host: plain.example.org
          - http: {paths: [{path: /any, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: internal, namespace: shop}
        spec: {rules: [{host: internal.shop.svc}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: shop, labels: {app: web}}
        spec: {containers: [{name: web, ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]}, {name: sidecar, ports: [{name: admin, containerPort: 15000}]}]}
        status: {phase: Running, podIP: 127.0.0.31}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-2, namespace: shop, labels: {app: web}}
        spec: {containers: [{name: web, ports: [{name: http, containerPort: 8080}]}]}
        status: {phase: Succeeded, podIP: 127.0.0.32}
        """

    static func render(_ objects: String, discovery: String) throws -> (IncrementalRender, [Diagnostic]) {
        let (snapshot, problems) = try ProbeTests.snapshot(cluster + "\n---\n" + objects, discovery: discovery)
        return (IncrementalRender(snapshot: snapshot), problems)
    }

    static func job(_ config: String, _ name: String) -> String {
        config.components(separatedBy: "- job_name: ").first { $0.hasPrefix(name + "\n") } ?? ""
    }

    /// The file_sd targets of a job, as (address, labels).
    static func targets(_ result: RenderResult, _ stem: String) throws -> [(String, [String: String])] {
        let text = ProbeTests.file(result, "file_sd/\(stem).json")
        let groups = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
        return groups.map { (($0["targets"] as? [String])?.first ?? "", $0["labels"] as? [String: String] ?? [:]) }
    }

    @Test("a NetworkProbe of Ingress hosts and pods: one job per source with the probe's job label; static discovery lists what Kubernetes discovery would find")
    func networkProbeOfIngressesAndPods() throws {
        let probe = ProbeTests.probe("edge", """
            prober: {url: "bb.mon.svc:9115"}
            module: {http: {}}
            targets:
              ingresses: {selector: {matchLabels: {probe: "true"}}}
              pods: {selector: {matchLabels: {app: web}}, port: http}
            """)
        let (kubernetes, problems) = try Self.render(probe, discovery: "kubernetes")
        #expect(problems.isEmpty, "\(problems)")
        let config = ProbeTests.file(kubernetes.result, "mon/s/prometheus/prometheus.yml")
        let ingressJob = Self.job(config, "probe/shop/edge/ingresses")
        #expect(ingressJob.contains("role: ingress") && ingressJob.contains("- shop"), "\(ingressJob)")
        #expect(ingressJob.contains("__meta_kubernetes_ingress_label_probe"), "the selector is a relabel rule: \(ingressJob)")
        #expect(ingressJob.contains("replacement: ${1}://${2}${3}") && ingressJob.contains("replacement: probe/shop/edge"), "\(ingressJob)")
        let podJob = Self.job(config, "probe/shop/edge/pods")
        #expect(podJob.contains("role: pod") && podJob.contains("regex: http\n"), "\(podJob)")
        #expect(podJob.contains("replacement: http://${1}") && podJob.contains("replacement: bb.mon.svc:9115"), "\(podJob)")
        // Two TLS paths and one plain rule (the host-less rule is left out); web-1's http port only.
        #expect(kubernetes.probeTargetCount(ObjectReference(kind: "NetworkProbe", namespace: "shop", name: "edge")) == 4)

        let (file, _) = try Self.render(probe, discovery: "static")
        let ingresses = try Self.targets(file.result, "probe_shop_edge_ingresses")
        #expect(ingresses.map(\.0) == ["shop.example.com", "shop.example.com", "plain.example.org", ""], "every rule × path of the selected Ingress")
        #expect(ingresses[0].1["__meta_kubernetes_ingress_scheme"] == "https" && ingresses[1].1["__meta_kubernetes_ingress_path"] == "/api")
        #expect(ingresses[2].1["__meta_kubernetes_ingress_scheme"] == "http" && ingresses[2].1["__meta_kubernetes_ingress_path"] == "/")
        #expect(ingresses[0].1["__meta_kubernetes_ingress_class_name"] == "nginx" && ingresses[0].1["__meta_kubernetes_ingress_labelpresent_probe"] == "true")
        let pods = try Self.targets(file.result, "probe_shop_edge_pods")
        #expect(pods.map(\.0) == ["127.0.0.31:8080"], "the running pod's named port: \(pods)")
        let staticJob = Self.job(ProbeTests.file(file.result, "mon/s/prometheus/prometheus.yml"), "probe/shop/edge/ingresses")
        #expect(staticJob.contains("file_sd_configs") && !staticJob.contains("__meta_kubernetes_ingress_label_probe"), "selected by netwatch: \(staticJob)")
    }

    @Test("each module takes Ingress and pod targets in its own form")
    func targetForms() throws {
        let cases: [(module: String, ingress: String, pod: String)] = [
            ("tcp: {}", "replacement: ${1}:443", "- source_labels:\n    - __address__\n    target_label: __param_target\n"),
            ("tls: {}", "regex: https\n", "- source_labels:\n    - __address__\n    target_label: __param_target\n"),
            ("icmp: {}", "regex: (.+)\n    target_label: __param_target", "- __meta_kubernetes_pod_ip\n    target_label: __param_target"),
        ]
        for (module, ingress, pod) in cases {
            let port = module.hasPrefix("icmp") ? "" : ", port: http"
            let probe = ProbeTests.probe("p", "prober: {url: \"bb:9115\"}\nmodule: {\(module)}\ntargets:\n  ingresses: {selector: {}}\n  pods: {selector: {matchLabels: {app: web}}\(port)}")
            let (render, problems) = try Self.render(probe, discovery: "kubernetes")
            #expect(problems.isEmpty, "\(module): \(problems)")
            let config = ProbeTests.file(render.result, "mon/s/prometheus/prometheus.yml")
            #expect(Self.job(config, "probe/shop/p/ingresses").contains(ingress), "\(module): \(Self.job(config, "probe/shop/p/ingresses"))")
            #expect(Self.job(config, "probe/shop/p/pods").contains(pod), "\(module): \(Self.job(config, "probe/shop/p/pods"))")
        }
        let icmp = try Self.render(ProbeTests.probe("p", "prober: {url: \"bb:9115\"}\nmodule: {icmp: {}}\ntargets: {pods: {selector: {matchLabels: {app: web}}}}"),
                                   discovery: "kubernetes").0
        #expect(!Self.job(ProbeTests.file(icmp.result, "mon/s/prometheus/prometheus.yml"), "probe/shop/p/pods").contains("target_label: container"),
                "an ICMP target is the pod, whichever container has ports")
        #expect(icmp.probeTargetCount(ObjectReference(kind: "NetworkProbe", namespace: "shop", name: "p")) == 1)
    }

    @Test("bad input: a pod probe without a port, an Ingress dns probe or port, and selectors that match nothing yet")
    func badInput() throws {
        for (spec, field) in [
            ("module: {tcp: {}}\ntargets: {pods: {selector: {}}}", "spec.targets.pods.port"),
            ("module: {dns: {queryName: x}}\ntargets: {ingresses: {selector: {}}}", "spec.targets.ingresses"),
            ("module: {tcp: {}}\ntargets: {ingresses: {selector: {}, port: 8443}}", "spec.targets.ingresses.port"),
        ] {
            let (snapshot, problems) = try ProbeTests.snapshot(ProbeTests.probe("bad", "prober: {url: \"bb:9115\"}\n" + spec))
            #expect(snapshot.networkProbes.isEmpty && problems.first?.field == field, "\(spec): \(problems)")
        }
        let (later, problems) = try Self.render(ProbeTests.probe("later", """
            prober: {url: "bb:9115"}
            module: {tcp: {}}
            targets: {pods: {selector: {matchLabels: {app: db}}, port: 5432}, ingresses: {selector: {matchLabels: {team: none}}}}
            """), discovery: "static")
        #expect(problems.isEmpty)
        let warnings = later.result.diagnostics.filter { $0.object?.name == "later" }
        #expect(warnings.map(\.field) == ["spec.targets.ingresses", "spec.targets.pods"] && warnings.allSatisfy { $0.severity == .warning }, "\(warnings)")
        #expect(ProbeTests.file(later.result, "mon/s/prometheus/prometheus.yml").contains("probe/shop/later/pods"),
                "rendered anyway: the pods are picked up when they appear")
    }

    @Test("a prometheus-operator Probe of Ingresses: Kubernetes discovery with its selector and relabelings; static discovery resolves the same Ingresses")
    func operatorIngressProbe() throws {
        let probe = """
            apiVersion: monitoring.coreos.com/v1
            kind: Probe
            metadata: {name: site, namespace: shop}
            spec:
              prober: {url: "bb.mon.svc:9115"}
              module: http_2xx
              targets:
                ingress:
                  selector: {matchLabels: {probe: "true"}}
                  namespaceSelector: {any: true}
                  relabelingConfigs: [{targetLabel: foo, replacement: bar, action: replace}]
            """
        let (kubernetes, problems) = try Self.render(probe, discovery: "kubernetes")
        #expect(problems.isEmpty, "\(problems)")
        let job = Self.job(ProbeTests.file(kubernetes.result, "mon/s/prometheus/prometheus.yml"), "probe/shop/site")
        #expect(job.contains("kubernetes_sd_configs:\n  - role: ingress\n  relabel_configs:"), "any namespace: no names: \(job)")
        #expect(job.contains("target_label: __tmp_ingress_address") && job.contains("target_label: foo"), "\(job)")
        #expect(kubernetes.probeTargetCount(ObjectReference(kind: "Probe", namespace: "shop", name: "site")) == 4, "the host-less rule is a target too, as in prometheus-operator")
        let (file, _) = try Self.render(probe, discovery: "static")
        #expect(try Self.targets(file.result, "probe_shop_site").count == 4)
    }
}
