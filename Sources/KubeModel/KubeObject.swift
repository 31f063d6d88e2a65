public import DataTree

/// One decoded Kubernetes object of a kind netwatch reads from manifests.
public enum KubeObject: Sendable, Hashable {
    case namespace(Namespace)
    case pod(Pod)
    case service(Service)
    case endpointSlice(EndpointSlice)
    case ingress(Ingress)
    case node(ClusterNode)
    case workload(Workload)
    /// An object of another kind, kept as its tree (netwatch's own resources are decoded from
    /// this by `NetWatchAPI`).
    case other(type: TypeMeta, metadata: ObjectMeta, document: Node)
}

/// A raw document's identity, read before any typed decoding so errors can name the object.
public struct RawObject: Sendable, Hashable {
    public var type: TypeMeta
    public var metadata: ObjectMeta
    public var document: Node
    public var source: SourceLocation?

    public var reference: ObjectReference {
        ObjectReference(kind: type.kind, namespace: metadata.namespace, name: metadata.name)
    }
}

/// Turns documents into objects: expands `List` kinds, reads `apiVersion`/`kind`/`metadata`,
/// and decodes the kinds in `KubeObject`. Every problem is a `Diagnostic`; one bad document
/// never stops the others.
public enum ObjectReader {
    /// Splits a document into raw objects (`kind: List` and `*List` kinds become their items).
    /// Documents that are empty (`null`) yield nothing.
    public static func rawObjects(from document: Node, source: SourceLocation?) -> ([RawObject], [Diagnostic]) {
        if document == .null { return ([], []) }
        guard case .mapping(let mapping) = document else {
            return ([], [Diagnostic(.error, source: source, message: "a Kubernetes object must be a mapping, found \(document.kindDescription)")])
        }
        guard case .string(let kind)? = mapping["kind"], !kind.isEmpty else {
            return ([], [Diagnostic(.error, source: source, field: "kind", message: "the document has no kind; every Kubernetes object needs apiVersion and kind")])
        }
        guard case .string(let apiVersion)? = mapping["apiVersion"], !apiVersion.isEmpty else {
            return ([], [Diagnostic(.error, source: source, field: "apiVersion", message: "\(kind) has no apiVersion; add one, e.g. apiVersion: v1")])
        }
        if kind == "List" || (kind.hasSuffix("List") && mapping["items"] != nil) {
            var objects: [RawObject] = []
            var diagnostics: [Diagnostic] = []
            guard case .sequence(let items)? = mapping["items"] ?? .sequence([]) else {
                return ([], [Diagnostic(.error, source: source, field: "items", message: "\(kind).items must be a list")])
            }
            let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
            for (index, item) in items.enumerated() {
                var item = item
                // Typed lists (PodList) may leave kind/apiVersion out of their items.
                if let itemKind, case .mapping(var itemMapping) = item {
                    if itemMapping["kind"] == nil { itemMapping["kind"] = .string(itemKind) }
                    if itemMapping["apiVersion"] == nil { itemMapping["apiVersion"] = .string(apiVersion) }
                    item = .mapping(itemMapping)
                }
                let (nested, problems) = rawObjects(from: item, source: source)
                objects += nested
                diagnostics += problems.map { problem in
                    var problem = problem
                    problem.field = "items[\(index)]" + (problem.field.map { ".\($0)" } ?? "")
                    return problem
                }
            }
            return (objects, diagnostics)
        }
        let metadataNode = mapping["metadata"] ?? .mapping(Mapping())
        let metadata: ObjectMeta
        do {
            metadata = try NodeDecoder().decode(ObjectMeta.self, from: metadataNode, at: FieldPath(dotted: "metadata"))
        } catch {
            return ([], [Diagnostic(.error, object: ObjectReference(kind: kind, namespace: nil, name: "?"), source: source, field: error.path.description, message: error.message)])
        }
        guard !metadata.name.isEmpty else {
            return ([], [Diagnostic(.error, object: ObjectReference(kind: kind, namespace: metadata.namespace, name: "?"), source: source, field: "metadata.name", message: "the object has no name; set metadata.name")])
        }
        // Names become file and object names: the API server's rules, checked here for manifests.
        if let problem = KubernetesName.pathSegmentProblem(metadata.name) ?? (metadata.name.utf8.count > 253 ? "must be at most 253 characters" : nil) {
            return ([], [Diagnostic(.error, object: ObjectReference(kind: kind, namespace: metadata.namespace, name: "?"), source: source, field: "metadata.name",
                                    message: "\"\(metadata.name)\" \(problem); the object is skipped")])
        }
        if kind == "Namespace", apiVersion == "v1", let problem = KubernetesName.labelProblem(metadata.name) {
            return ([], [Diagnostic(.error, object: ObjectReference(kind: kind, namespace: nil, name: "?"), source: source, field: "metadata.name",
                                    message: "\"\(metadata.name)\" \(problem); the object is skipped")])
        }
        if let namespace = metadata.namespace, let problem = KubernetesName.labelProblem(namespace) {
            return ([], [Diagnostic(.error, object: ObjectReference(kind: kind, namespace: nil, name: metadata.name), source: source, field: "metadata.namespace",
                                    message: "\"\(namespace)\" \(problem); the object is skipped")])
        }
        return ([RawObject(type: TypeMeta(apiVersion: apiVersion, kind: kind), metadata: metadata, document: document, source: source)], [])
    }

    /// Decodes the kinds netwatch knows from the core and apps/batch groups; others are `.other`.
    public static func decode(_ raw: RawObject) -> Result<KubeObject, Diagnostic> {
        let decoder = NodeDecoder()
        do throws(NodeDecodingError) {
            switch (raw.type.group, raw.type.kind) {
            case ("", "Namespace"):
                return .success(.namespace(try decoder.decode(Namespace.self, from: raw.document)))
            case ("", "Pod"):
                return .success(.pod(try decoder.decode(Pod.self, from: raw.document)))
            case ("", "Service"):
                return .success(.service(try decoder.decode(Service.self, from: raw.document)))
            case ("discovery.k8s.io", "EndpointSlice"):
                return .success(.endpointSlice(try decoder.decode(EndpointSlice.self, from: raw.document)))
            case ("", "Node"):
                return .success(.node(try decoder.decode(ClusterNode.self, from: raw.document)))
            case ("networking.k8s.io", "Ingress"):
                return .success(.ingress(try decoder.decode(Ingress.self, from: raw.document)))
            case ("apps", let kind) where Workload.kinds.contains(kind), ("batch", let kind) where Workload.kinds.contains(kind):
                let path = Workload.templatePath(kind: kind)
                var node = raw.document
                for key in path { node = node[key] ?? .null }
                let template = try decoder.decode(PodTemplateSpec.self, from: node, at: FieldPath(dotted: path.joined(separator: ".")))
                return .success(.workload(Workload(kind: kind, metadata: raw.metadata, template: template, document: raw.document)))
            default:
                return .success(.other(type: raw.type, metadata: raw.metadata, document: raw.document))
            }
        } catch {
            return .failure(Diagnostic(.error, object: raw.reference, source: raw.source, field: error.path.description, message: error.message))
        }
    }
}
