import DataTree
import KubeClient
import KubeModel
import Synchronization

/// Writes the status of netwatch's resources through their status subresource (server-side
/// apply, field manager `netwatch`), shared by every reconciler.
///
/// Guarantees: a status equal to what is stored or to what this writer last wrote for the same
/// object (by uid) is not sent; transition times are kept from the last written status, which
/// the store may not show yet; an object deleted meanwhile is not an error.
final class StatusWriter: Sendable {
    private let client: KubeClient
    /// Status last written, by object reference and uid: an object deleted and created again
    /// under the same name is a new object whose status was never written.
    private let written = Mutex<[WrittenKey: Node]>([:])

    private struct WrittenKey: Hashable {
        var object: ObjectReference
        var uid: String
    }

    init(client: KubeClient) {
        self.client = client
    }

    /// Applies `make(basis)` as the object's status unless it equals what is stored or was last
    /// written. `basis` is the stored object carrying the status last written.
    func write(_ resource: APIResource, _ object: ObjectReference, stored: Node, make: (Node) -> Node) async throws {
        let key = WrittenKey(object: object, uid: stored["metadata"]?["uid"]?.string ?? "")
        let last = written.withLock { $0[key] }
        var basis = stored
        if let last, case .mapping(var map) = basis {
            map["status"] = last
            basis = .mapping(map)
        }
        let status = make(basis)
        if last == status || stored["status"] == status { return }
        var metadata = Mapping()
        metadata["name"] = .string(object.name)
        if let namespace = object.namespace { metadata["namespace"] = .string(namespace) }
        let body: Node = ["apiVersion": .string(resource.apiVersion), "kind": .string(resource.kind), "metadata": .mapping(metadata), "status": status]
        do {
            _ = try await client.apply(Discarded.self, resource, namespace: object.namespace, name: object.name, object: body,
                                       fieldManager: ClusterApplier.fieldManager, force: true, subresource: "status")
            written.withLock { $0[key] = status }
        } catch let error as APIError where error.isNotFound {
            return  // deleted meanwhile
        }
    }

    /// Forgets the statuses written for objects that no longer exist (by uid).
    func forget(except uids: Set<String>) {
        written.withLock { written in
            written = written.filter { uids.contains($0.key.uid) }
        }
    }
}
