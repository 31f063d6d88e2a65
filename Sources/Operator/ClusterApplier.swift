import ConfigGen
import DataTree
import KubeClient
import Synchronization
import YAML

/// Applies the rendered Kubernetes objects (ConfigMaps, Secrets) with server-side apply as
/// field manager `netwatch`, owned by their MonitoringStack, and deletes the ones no longer
/// rendered.
///
/// Guarantees: an object whose rendered bytes did not change since it was last applied is not
/// sent again (no write, no resourceVersion bump, no reload); a failed apply is retried by the
/// next reconcile; objects are only ever deleted if this process applied them.
final class ClusterApplier: Sendable {
    static let fieldManager = "netwatch"

    private let client: KubeClient
    /// Artifact path → bytes last applied successfully.
    private let applied = Mutex<[String: [UInt8]]>([:])

    init(client: KubeClient) {
        self.client = client
    }

    struct Outcome {
        var applied = 0
        var unchanged = 0
        var deleted = 0
    }

    /// `stackUIDs`: "namespace/name" of each MonitoringStack → its uid, for owner references.
    /// With `prune`, `artifacts` is the whole output and objects applied before but no longer
    /// in it are deleted; without, `artifacts` is a subset (an incremental update).
    func apply(_ artifacts: [Artifact], stackUIDs: [String: String], prune: Bool) async throws -> Outcome {
        var outcome = Outcome()
        let manifests = artifacts.filter { $0.role == .kubernetesManifest || $0.role == .credentialsManifest }
        let previous = applied.withLock { $0 }
        for artifact in manifests {
            if previous[artifact.path] == artifact.bytes {
                outcome.unchanged += 1
                continue
            }
            for document in try YAMLParser().parse(artifact.bytes, file: artifact.path) {
                let object = withOwner(document.node, path: artifact.path, stackUIDs: stackUIDs)
                guard let resource = Self.resource(for: object), let name = object["metadata"]?["name"]?.string else { continue }
                let namespace = object["metadata"]?["namespace"]?.string
                let _: Node = try await client.apply(Node.self, resource, namespace: namespace, name: name, object: object, fieldManager: Self.fieldManager, force: true)
            }
            applied.withLock { $0[artifact.path] = artifact.bytes }
            outcome.applied += 1
        }
        guard prune else { return outcome }
        let current = Set(manifests.map(\.path))
        for (path, bytes) in previous where !current.contains(path) {
            for document in (try? YAMLParser().parse(bytes, file: path)) ?? [] {
                guard let resource = Self.resource(for: document.node), let name = document.node["metadata"]?["name"]?.string else { continue }
                do {
                    try await client.delete(resource, namespace: document.node["metadata"]?["namespace"]?.string, name: name)
                } catch let error as APIError where error.isNotFound {}
            }
            applied.withLock { $0[path] = nil }
            outcome.deleted += 1
        }
        return outcome
    }

    static func resource(for object: Node) -> APIResource? {
        switch (object["apiVersion"]?.string, object["kind"]?.string) {
        case ("v1", "ConfigMap"): .configMaps
        case ("v1", "Secret"): .secrets
        case ("grafana.integreatly.org/v1beta1", "GrafanaDashboard"):
            APIResource(group: "grafana.integreatly.org", version: "v1beta1", resource: "grafanadashboards", kind: "GrafanaDashboard", namespaced: true)
        default: nil
        }
    }

    /// Owner reference to the stack the artifact belongs to (`<ns>/<stack>/kubernetes/…`), so
    /// deleting the stack garbage-collects its output.
    private func withOwner(_ object: Node, path: String, stackUIDs: [String: String]) -> Node {
        let parts = path.split(separator: "/")
        guard parts.count >= 2, let uid = stackUIDs["\(parts[0])/\(parts[1])"], case .mapping(var map) = object,
              case .mapping(var metadata)? = map["metadata"] else { return object }
        metadata["ownerReferences"] = [[
            "apiVersion": "netwatch.dev/v1alpha1", "kind": "MonitoringStack", "name": .string(String(parts[1])),
            "uid": .string(uid), "controller": true, "blockOwnerDeletion": true,
        ]]
        map["metadata"] = .mapping(metadata)
        return .mapping(map)
    }
}
