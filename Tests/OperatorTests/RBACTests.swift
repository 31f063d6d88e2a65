import ConfigGen
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Operator
import RenderIO
import Testing
import YAML

/// The operator's RBAC is derived, not guessed: a run that takes every code path (apply mode,
/// leader election, the webhook, prometheus-operator kinds, grafana-operator dashboards,
/// Events, status of every kind, pruning, a FlowPolicy enforced and then relaxed) records each
/// request the test API server receives; the permissions they need must equal what
/// manifests/rbac grants — no more, no less.
@Suite("RBAC equals the requests the operator makes", .serialized)
struct RBACTests {
    struct Permission: Hashable, Comparable, CustomStringConvertible {
        var group: String
        var resource: String
        var verb: String
        /// Only in netwatch's namespace (a Role), or cluster-wide (a ClusterRole).
        var namespaced: Bool
        var description: String { "\(group.isEmpty ? "core" : group)/\(resource):\(verb)\(namespaced ? " (netwatch-system)" : "")" }
        static func < (lhs: Permission, rhs: Permission) -> Bool { lhs.description < rhs.description }
    }

    /// (group, resource[/subresource], verb, namespace) of a request path.
    static func permission(_ request: RecordedRequest) -> (group: String, resource: String, verb: String, namespace: String?)? {
        var parts = request.path.split(separator: "/").map(String.init)
        let group: String
        if parts.first == "api" { group = ""; parts.removeFirst(2) } else if parts.first == "apis", parts.count >= 3 { group = parts[1]; parts.removeFirst(3) } else { return nil }
        var namespace: String?
        if parts.count >= 3, parts[0] == "namespaces" {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard let resource = parts.first else { return nil }
        let name = parts.count > 1 ? parts[1] : nil
        let subresource = parts.count > 2 ? "/" + parts[2] : ""
        let verb: String = switch (request.method, name) {
        case ("GET", nil): ["true", "1"].contains(request.query["watch"] ?? "") ? "watch" : "list"
        case ("GET", _): "get"
        case ("POST", _): "create"
        case ("PUT", _): "update"
        case ("PATCH", _): "patch"
        case ("DELETE", nil): "deletecollection"
        case ("DELETE", _): "delete"
        default: request.method.lowercased()
        }
        return (group, resource + subresource, verb, namespace)
    }

    static func granted() throws -> Set<Permission> {
        var granted: Set<Permission> = []
        let directory = repositoryRoot.appendingPathComponent("manifests/rbac").path
        for file in try FileManager.default.contentsOfDirectory(atPath: directory).filter({ $0.hasSuffix(".yaml") }) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
            for document in try YAMLParser().parse(bytes, file: file) where ["ClusterRole", "Role"].contains(document.node["kind"]?.string ?? "") {
                let namespaced = document.node["kind"] == "Role"
                for rule in document.node["rules"]?.sequence ?? [] {
                    for group in rule["apiGroups"]?.sequence?.compactMap(\.string) ?? [] {
                        for resource in rule["resources"]?.sequence?.compactMap(\.string) ?? [] {
                            for verb in rule["verbs"]?.sequence?.compactMap(\.string) ?? [] {
                                granted.insert(Permission(group: group, resource: resource, verb: verb, namespaced: namespaced))
                            }
                        }
                    }
                }
            }
        }
        return granted
    }

    static func crd(group: String, plural: String, kind: String, version: String = "v1") -> Node {
        ["apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": .string("\(plural).\(group)")],
         "spec": ["group": .string(group), "scope": "Namespaced",
                  "names": ["plural": .string(plural), "singular": .string(kind.lowercased()), "kind": .string(kind), "listKind": .string(kind + "List")],
                  "versions": [["name": .string(version), "served": true, "storage": true,
                                "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]]]]]]
    }

    @Test("every permission granted is used, and every request is granted")
    func derivedRBAC() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-rbac-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let hubble = work + "/hubble.json"
        try FlowPolicyOperatorTests.hubble(("10.42.0.11", "web", "Deployment"), ("10.42.0.23", "cart", "Deployment"), port: 9090).write(toFile: hubble, atomically: true, encoding: .utf8)
        let loader = ManifestLoader()
        var seen: Set<String> = []
        let objects = loader.load(paths: ["manifests/samples", "manifests/examples/prometheus-operator", "manifests/examples/secure-scrapes"].map { repositoryRoot.appendingPathComponent($0).path }).objects
            .filter { seen.insert("\($0.type.kind)/\($0.metadata.namespace ?? "")/\($0.metadata.name)").inserted }.map(\.document)
        let extra: [Node] = [
            Self.crd(group: "monitoring.coreos.com", plural: "podmonitors", kind: "PodMonitor"),
            Self.crd(group: "monitoring.coreos.com", plural: "servicemonitors", kind: "ServiceMonitor"),
            Self.crd(group: "monitoring.coreos.com", plural: "prometheusrules", kind: "PrometheusRule"),
            Self.crd(group: "monitoring.coreos.com", plural: "probes", kind: "Probe"),
            Self.crd(group: "grafana.integreatly.org", plural: "grafanadashboards", kind: "GrafanaDashboard", version: "v1beta1"),
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "netwatch-system"]],
            ["apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack", "metadata": ["name": "grafana", "namespace": "monitoring"],
             "spec": ["prometheus": ["discovery": "kubernetes"], "monitorSelector": [:], "dashboardSelector": [:], "grafana": ["delivery": "grafanaOperator"]]],
            ["apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkMonitor", "metadata": ["name": "broken", "namespace": "shop"],
             "spec": ["selector": [:], "endpoints": [["port": "metrics", "interval": "10s", "scrapeTimeout": "20s"]]]],
            ["apiVersion": "netwatch.dev/v1alpha1", "kind": "FlowPolicy", "metadata": ["name": "learned", "namespace": "shop"],
             "spec": ["sources": [["hubble": ["path": .string(hubble)]]], "learning": ["window": "1s", "stabilization": "1s"], "mode": "enforce"]],
        ]
        let settings = NetwatchOperator.WebhookSettings(host: "127.0.0.1", port: 0, service: .init(name: "netwatch-webhook", namespace: "netwatch-system"),
                                                        certificateDirectory: work + "/certs")
        let harness = try await OperatorHarness.start(objects: objects + extra, outputDirectory: nil, webhook: settings,
                                                      flowInterval: .milliseconds(200), leaseNamespace: "netwatch-system")
        let client = harness.client
        let networkPolicies = FlowPolicyOperatorTests.networkPolicies
        // The test's own reads carry this selector (matching everything), so they are told apart.
        let probe = ListOptions(labelSelector: "netwatch.dev/rbac-probe!=x")
        #expect(try await eventually(timeout: .seconds(20)) { !(try await client.list(Node.self, networkPolicies, namespace: "shop", options: probe).items.isEmpty) })
        #expect(try await eventually { !(try await client.list(Node.self, .configMaps, namespace: "monitoring", options: probe).items.isEmpty) })
        // Pruning: the dashboard stack and a stack's ConfigMaps go away; the FlowPolicy is relaxed.
        let stacks = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "monitoringstacks", kind: "MonitoringStack", namespaced: true)
        try await client.delete(stacks, namespace: "monitoring", name: "grafana")
        try await client.delete(stacks, namespace: "monitoring", name: "main")
        try await client.delete(stacks, namespace: "monitoring", name: "edge")
        let observe: Node = ["apiVersion": "netwatch.dev/v1alpha1", "kind": "FlowPolicy", "metadata": ["name": "learned", "namespace": "shop"], "spec": ["mode": "observe"]]
        let _: Node = try await client.apply(Node.self, FlowPolicyOperatorTests.flowPolicies, namespace: "shop", name: "learned", object: observe, fieldManager: "test", force: true)
        #expect(try await eventually(timeout: .seconds(10)) { try await client.list(Node.self, networkPolicies, namespace: "shop", options: probe).items.isEmpty })
        #expect(try await eventually {
            try await client.list(Node.self, .configMaps, namespace: "monitoring", options: probe).items.allSatisfy { $0["metadata"]?["name"]?.string?.hasPrefix("prometheus-main") != true }
        })
        // The edge stack's configuration Secret is pruned too (a delete of a Secret).
        #expect(try await eventually {
            try await client.list(Node.self, .secrets, namespace: "monitoring", options: probe).items.allSatisfy { $0["metadata"]?["name"]?.string != "prometheus-edge-config" }
        })
        // Whatever the deletions still imply (status, Events) is done before the requests are read.
        #expect(try await eventually { await harness.netwatch.isSettled() })
        await harness.stop()

        var used: Set<Permission> = []
        var outside: [String] = []
        for request in harness.server.state.recordedRequests {
            guard let (group, resource, verb, namespace) = Self.permission(request) else { continue }
            // The test's own requests (its client shares the server) are not the operator's.
            if request.query["fieldManager"] == "test" || request.query["labelSelector"]?.contains("rbac-probe") == true { continue }
            let namespaced = ["leases", "secrets"].contains(resource) && namespace == "netwatch-system" && verb != "patch" && verb != "delete"
            used.insert(Permission(group: group, resource: resource, verb: verb, namespaced: namespaced))
            if namespaced == false, resource == "leases" { outside.append("\(request.method) \(request.path)") }
        }
        // Requests only the test client made: listing and deleting to drive the scenario.
        let testOnly: Set<Permission> = [
            Permission(group: "netwatch.dev", resource: "monitoringstacks", verb: "delete", namespaced: false),
        ]
        let operatorUsed = used.subtracting(testOnly)
        let granted = try Self.granted()
        #expect(outside.isEmpty, "leases outside netwatch-system: \(outside)")
        #expect(operatorUsed.subtracting(granted).sorted().map(\.description) == [], "requested but not granted")
        #expect(granted.subtracting(operatorUsed).sorted().map(\.description) == [], "granted but never requested")
    }
}
