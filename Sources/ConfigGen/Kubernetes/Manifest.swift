import DataTree
import KubeModel

/// A generated Kubernetes object: the file it is written to under `kubernetes/`, what it is,
/// and its YAML bytes (one document). Built from the tree it is emitted from, so the object an
/// artifact becomes is known without reading the bytes back.
struct Manifest: Sendable, Hashable {
    var file: String
    var object: Artifact.KubernetesObject
    var bytes: [UInt8]

    init(file: String, node: Node) {
        self.file = file
        object = Self.object(of: node)
        bytes = emitYAML(node)
    }

    /// What a generated object is, from its own fields (always set: netwatch generates them).
    static func object(of node: Node) -> Artifact.KubernetesObject {
        let metadata = node["metadata"]
        return Artifact.KubernetesObject(
            apiVersion: node["apiVersion"]?.string ?? "",
            reference: ObjectReference(kind: node["kind"]?.string ?? "", namespace: metadata?["namespace"]?.string, name: metadata?["name"]?.string ?? ""))
    }
}

extension Artifact {
    /// An artifact holding one generated Kubernetes object, which it records as `object`.
    init(path: String, object node: Node, role: Role, owner: ObjectReference? = nil) {
        let manifest = Manifest(file: path, node: node)
        self.init(path: path, bytes: manifest.bytes, role: role, owner: owner, object: manifest.object)
    }
}
