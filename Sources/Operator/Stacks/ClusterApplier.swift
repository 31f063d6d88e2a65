import ConfigGen
import DataTree
import KubeClient
import KubeModel
import Synchronization

/// Applies the rendered Kubernetes objects (ConfigMaps, Secrets, GrafanaDashboards) with
/// server-side apply, owned by their MonitoringStack, and deletes the ones no longer rendered.
///
/// Guarantees: the bytes applied are the rendered bytes, unchanged (what `netwatch render`
/// writes is what the cluster gets); an object whose bytes did not change since it was last
/// applied is not sent again (no write, no resourceVersion bump, no reload); a failed apply is
/// retried by the next reconcile; objects are only ever deleted if this process applied them.
/// What an artifact is and who owns it come from the artifact itself (`object`, `owner`),
/// never from its path or from reading its bytes back.
///
/// The owner reference is applied by a second field manager, `netwatch-owner`, once per object
/// and owner uid: the rendered bytes carry no cluster-specific uid, and the content manager
/// (`netwatch`) leaving `ownerReferences` out of its applies does not remove a field another
/// manager owns.
final class ClusterApplier: Sendable {
    static let fieldManager = "netwatch"
    static let ownerFieldManager = "netwatch-owner"

    private let client: KubeClient
    /// Object → bytes last applied successfully.
    private let applied = Mutex<[Artifact.KubernetesObject: [UInt8]]>([:])
    /// Object → uid of the owner whose reference was applied to it.
    private let ownerApplied = Mutex<[Artifact.KubernetesObject: String]>([:])

    init(client: KubeClient) {
        self.client = client
    }

    struct Outcome {
        var applied = 0
        var unchanged = 0
        var deleted = 0
    }

    /// `ownerUIDs`: each MonitoringStack's uid, for owner references. With `prune`,
    /// `artifacts` is the whole output and objects applied before but no longer in it are
    /// deleted; without, `artifacts` is a subset (an incremental update).
    func apply(_ artifacts: [Artifact], ownerUIDs: [ObjectReference: String], prune: Bool) async throws -> Outcome {
        var outcome = Outcome()
        let manifests = artifacts.compactMap { artifact in artifact.isAppliedManifest ? artifact.object.map { (artifact, $0) } : nil }
        let previous = applied.withLock { $0 }
        for (artifact, object) in manifests {
            guard let resource = Self.resource(for: object) else { continue }
            let reference = object.reference
            if previous[object] == artifact.bytes {
                outcome.unchanged += 1
            } else {
                try await client.applyManifest(resource, namespace: reference.namespace, name: reference.name, manifest: artifact.bytes,
                                               fieldManager: Self.fieldManager, force: true)
                applied.withLock { $0[object] = artifact.bytes }
                outcome.applied += 1
            }
            if let owner = artifact.owner, let uid = ownerUIDs[owner], ownerApplied.withLock({ $0[object] }) != uid {
                try await client.applyManifest(resource, namespace: reference.namespace, name: reference.name,
                                               manifest: Self.ownership(of: object, by: owner, uid: uid), fieldManager: Self.ownerFieldManager, force: true)
                ownerApplied.withLock { $0[object] = uid }
            }
        }
        guard prune else { return outcome }
        let current = Set(manifests.map(\.1))
        for object in previous.keys.sorted(by: { $0.description < $1.description }) where !current.contains(object) {
            guard let resource = Self.resource(for: object) else { continue }
            do {
                try await client.delete(resource, namespace: object.reference.namespace, name: object.reference.name)
            } catch let error as APIError where error.isNotFound {}
            applied.withLock { $0[object] = nil }
            ownerApplied.withLock { $0[object] = nil }
            outcome.deleted += 1
        }
        return outcome
    }

    static func resource(for object: Artifact.KubernetesObject) -> APIResource? {
        switch (object.apiVersion, object.reference.kind) {
        case ("v1", "ConfigMap"): .configMaps
        case ("v1", "Secret"): .secrets
        case ("grafana.integreatly.org/v1beta1", "GrafanaDashboard"):
            APIResource(group: "grafana.integreatly.org", version: "v1beta1", resource: "grafanadashboards", kind: "GrafanaDashboard", namespaced: true)
        default: nil
        }
    }

    /// The owner manager's apply: the object's identity and one controller reference to the
    /// MonitoringStack, so deleting the stack garbage-collects its output.
    static func ownership(of object: Artifact.KubernetesObject, by owner: ObjectReference, uid: String) -> [UInt8] {
        var metadata = Mapping([("name", .string(object.reference.name))])
        if let namespace = object.reference.namespace { metadata["namespace"] = .string(namespace) }
        metadata["ownerReferences"] = [[
            "apiVersion": "netwatch.dev/v1alpha1", "kind": .string(owner.kind), "name": .string(owner.name),
            "uid": .string(uid), "controller": true, "blockOwnerDeletion": true,
        ]]
        let node: Node = ["apiVersion": .string(object.apiVersion), "kind": .string(object.reference.kind), "metadata": .mapping(metadata)]
        return JSONEmitter(style: .compact).emit(node)
    }
}
