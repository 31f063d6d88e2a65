public import DataTree
import Foundation
import YAML
import Synchronization

/// Create, update, patch, apply and delete with the API server's rules: resourceVersion
/// preconditions (409), AlreadyExists, namespaces that must exist, status subresources,
/// generation, finalizers, managedFields and size limits.
extension ClusterState {
    static let maxConfigDataBytes = 1 << 20

    func create(typeKey: String, namespace: String?, body: Node, manager: String, operation: String = "Update") -> Result<Stored, APIFailure> {
        storage.withLock { storage in
            guard let type = storage.types[typeKey] else { return .failure(APIFailure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")) }
            guard case .mapping = body, var metadata = body["metadata"]?.mapping else {
                return .failure(invalid(type, "", [("metadata", "Required value: the object needs metadata")]))
            }
            var name = metadata["name"]?.string ?? ""
            if name.isEmpty, let prefix = metadata["generateName"]?.string, !prefix.isEmpty {
                name = prefix + Self.randomSuffix(storage.revision)
                metadata["name"] = .string(name)
            }
            guard !name.isEmpty else {
                return .failure(invalid(type, "", [("metadata.name", "Required value: name or generateName is required")]))
            }
            if type.namespaced {
                let bodyNamespace = metadata["namespace"]?.string
                if let bodyNamespace, let namespace, bodyNamespace != namespace {
                    return .failure(APIFailure(code: 400, reason: "BadRequest", message: "the namespace of the provided object does not match the namespace sent on the request"))
                }
                guard let effective = namespace ?? bodyNamespace else {
                    return .failure(APIFailure(code: 400, reason: "BadRequest", message: "a namespaced object needs a namespace"))
                }
                guard storage.objects["namespaces"]?[ObjectKey(namespace: "", name: effective)] != nil else {
                    var failure = APIFailure(code: 404, reason: "NotFound", message: "namespaces \"\(effective)\" not found")
                    failure.details = (effective, "namespaces", "")
                    return .failure(failure)
                }
                metadata["namespace"] = .string(effective)
            } else {
                metadata["namespace"] = nil
            }
            let objectNamespace = type.namespaced ? metadata["namespace"]?.string : nil
            let key = ObjectKey(namespace: objectNamespace ?? "", name: name)
            if storage.objects[typeKey]?[key] != nil {
                var failure = APIFailure(code: 409, reason: "AlreadyExists", message: "\(type.key) \"\(name)\" already exists")
                failure.details = (name, type.resource, type.group)
                return .failure(failure)
            }
            var node = body
            if let problem = sizeProblem(type, node, name: name) { return .failure(problem) }
            storage.revision += 1
            // kube-apiserver always assigns the uid; this server keeps one the request carries, so
            // fixtures created from manifests keep the uid a render of the same manifests sees.
            if metadata["uid"]?.string?.isEmpty != false { metadata["uid"] = .string(Self.uid(storage.revision)) }
            metadata["resourceVersion"] = .string(String(storage.revision))
            metadata["creationTimestamp"] = .string(Self.timestamp())
            if metadata["generation"] == nil && typeKey != "namespaces" { metadata["generation"] = 1 }
            metadata["managedFields"] = nil
            metadata["deletionTimestamp"] = nil
            node = Patching.setting(.mapping(metadata), at: ["metadata"], in: node)
            if type.hasStatus && !ResourceType.builtIn.contains(where: { $0.key == type.key }) {
                node = Patching.setting(nil, at: ["status"], in: node)
            }
            if typeKey == "customresourcedefinitions.apiextensions.k8s.io" {
                node = Self.establish(node)
            }
            if typeKey == "namespaces" {
                node = Patching.setting(["phase": "Active"], at: ["status"], in: node)
            }
            let fields = Set(Patching.leaves(node).keys)
            var stored = Stored(json: [], labels: Self.labels(of: node), namespace: objectNamespace, name: name, revision: storage.revision)
            stored.managers[manager] = ManagedFields(operation: operation, apiVersion: node["apiVersion"]?.string ?? "", time: Self.timestamp(), paths: fields)
            stored.json = Self.serialize(node, managers: stored.managers)
            storage.objects[typeKey, default: [:]][key] = stored
            storage.sortedKeys[typeKey] = nil
            publish(&storage, Event(type: "ADDED", resourceKey: typeKey, object: stored))
            if typeKey == "customresourcedefinitions.apiextensions.k8s.io", let registered = ResourceType.from(crd: node) {
                storage.types[registered.key] = registered
            }
            return .success(stored)
        }
    }

    /// Loads an object as it is, for fixtures and benchmarks: no event, no managedFields,
    /// namespaces need not exist. The object gets the next resourceVersion.
    public func seed(resource typeKey: String, objects: [Node]) {
        storage.withLock { storage in
            for var node in objects {
                storage.revision += 1
                let name = node["metadata"]?["name"]?.string ?? ""
                let namespace = node["metadata"]?["namespace"]?.string
                node = Patching.setting(.string(String(storage.revision)), at: ["metadata", "resourceVersion"], in: node)
                if node["metadata"]?["uid"] == nil { node = Patching.setting(.string(Self.uid(storage.revision)), at: ["metadata", "uid"], in: node) }
                let stored = Stored(json: compactJSON(node), labels: Self.labels(of: node), namespace: namespace, name: name, revision: storage.revision)
                storage.objects[typeKey, default: [:]][ObjectKey(namespace: namespace ?? "", name: name)] = stored
            }
            storage.sortedKeys[typeKey] = nil
            storage.compactedRevision = storage.revision
        }
    }

    enum UpdateKind {
        case replace(Node)
        case mergePatch(Node)
        case jsonPatch(Node)
        case apply(Node, force: Bool)
    }

    func update(typeKey: String, namespace: String?, name: String, kind: UpdateKind, subresource: String?, manager: String) -> Result<Stored, APIFailure> {
        storage.withLock { storage in
            let type: ResourceType, key: ObjectKey, existing: Stored
            switch Self.existing(in: storage, typeKey: typeKey, namespace: namespace, name: name) {
            case .failure(let failure): return .failure(failure)
            case .success(let found): (type, key, existing) = found
            }
            let old = existing.node
            var candidate: Node
            var managers = existing.managers
            let now = Self.timestamp()
            switch kind {
            case .replace(let body):
                if let version = body["metadata"]?["resourceVersion"]?.string, !version.isEmpty, version != String(existing.revision) {
                    return .failure(conflict(type, name))
                }
                candidate = body
            case .mergePatch(let patch):
                if let version = patch["metadata"]?["resourceVersion"]?.string, version != String(existing.revision) {
                    return .failure(conflict(type, name))
                }
                candidate = Patching.mergePatch(old, patch)
            case .jsonPatch(let operations):
                do {
                    candidate = try Patching.jsonPatch(old, operations)
                } catch {
                    return .failure(APIFailure(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \((error as? Patching.PatchError)?.message ?? "\(error)")"))
                }
            case .apply(let applied, let force):
                let appliedLeaves = Patching.leaves(applied)
                var conflicts: [(field: String, message: String, reason: String)] = []
                for (other, owned) in managers.sorted(by: { $0.key < $1.key }) where other != manager {
                    for path in owned.paths.sorted(by: { $0.joined(separator: ".") < $1.joined(separator: ".") }) {
                        guard let wanted = appliedLeaves[path], Patching.value(at: path, in: old) != wanted else { continue }
                        conflicts.append(("." + path.joined(separator: "."), "conflict with \"\(other)\"", "FieldManagerConflict"))
                        if force { managers[other]?.paths.remove(path) }
                    }
                }
                if !conflicts.isEmpty && !force {
                    var failure = APIFailure(code: 409, reason: "Conflict", message: "Apply failed with \(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): " + conflicts.map { "\($0.message): \($0.field)" }.joined(separator: "; "))
                    failure.causes = conflicts
                    failure.details = (name, type.resource, type.group)
                    return .failure(failure)
                }
                candidate = old
                // Fields this manager applied before and no longer applies are removed unless someone else owns them.
                let previously = managers[manager]?.paths ?? []
                let ownedByOthers = managers.filter { $0.key != manager }.values.reduce(into: Set<[String]>()) { $0.formUnion($1.paths) }
                for path in previously where appliedLeaves[path] == nil && !ownedByOthers.contains(path) {
                    candidate = Patching.setting(nil, at: path, in: candidate)
                }
                for (path, value) in appliedLeaves { candidate = Patching.setting(value, at: path, in: candidate) }
                managers[manager] = ManagedFields(operation: "Apply", apiVersion: applied["apiVersion"]?.string ?? "", time: now, paths: Set(appliedLeaves.keys))
            }

            // Only the subresource's part changes through it; the main resource never changes status.
            if subresource == "status" {
                candidate = Patching.setting(candidate["status"], at: ["status"], in: old)
            } else if type.hasStatus {
                candidate = Patching.setting(old["status"], at: ["status"], in: candidate)
            }
            // Server-owned metadata is kept.
            for field in ["uid", "creationTimestamp", "deletionTimestamp", "namespace", "name", "generation"] {
                candidate = Patching.setting(old["metadata"]?[field], at: ["metadata", field], in: candidate)
            }
            candidate = Patching.setting(nil, at: ["metadata", "managedFields"], in: candidate)
            candidate = Patching.setting(old["metadata"]?["resourceVersion"], at: ["metadata", "resourceVersion"], in: candidate)
            let oldComparable = Patching.setting(nil, at: ["metadata", "managedFields"], in: old)
            if candidate == oldComparable && managers.mapValues(\.paths) == existing.managers.mapValues(\.paths) {
                return .success(existing)  // No change: no new resourceVersion, no event.
            }
            if let problem = sizeProblem(type, candidate, name: name) { return .failure(problem) }

            if case .apply = kind {} else {
                let before = Patching.leaves(old)
                let after = Patching.leaves(candidate)
                let changed = Set(after.filter { before[$0.key] != $0.value }.keys)
                if !changed.isEmpty {
                    for other in managers.keys where other != manager { managers[other]?.paths.subtract(changed) }
                    var mine = managers[manager] ?? ManagedFields(operation: "Update", apiVersion: candidate["apiVersion"]?.string ?? "", time: now, paths: [])
                    mine.paths.formUnion(changed)
                    mine.time = now
                    managers[manager] = mine
                }
            }
            managers = managers.filter { !$0.value.paths.isEmpty }

            func withoutMetaAndStatus(_ node: Node) -> Node {
                Patching.setting(nil, at: ["status"], in: Patching.setting(nil, at: ["metadata"], in: node))
            }
            if withoutMetaAndStatus(candidate) != withoutMetaAndStatus(old), let generation = old["metadata"]?["generation"], case .int(let value) = generation {
                candidate = Patching.setting(.int(value + 1), at: ["metadata", "generation"], in: candidate)
            }
            storage.revision += 1
            candidate = Patching.setting(.string(String(storage.revision)), at: ["metadata", "resourceVersion"], in: candidate)
            var stored = Stored(json: [], labels: Self.labels(of: candidate), namespace: existing.namespace, name: name, revision: storage.revision, managers: managers)
            stored.json = Self.serialize(candidate, managers: managers)
            let finalizers = candidate["metadata"]?["finalizers"]?.sequence ?? []
            if candidate["metadata"]?["deletionTimestamp"] != nil && finalizers.isEmpty {
                storage.objects[typeKey]?[key] = nil
                storage.sortedKeys[typeKey] = nil
                publish(&storage, Event(type: "DELETED", resourceKey: typeKey, object: stored))
                return .success(stored)
            }
            storage.objects[typeKey]?[key] = stored
            publish(&storage, Event(type: "MODIFIED", resourceKey: typeKey, object: stored, previousLabels: existing.labels))
            return .success(stored)
        }
    }

    func delete(typeKey: String, namespace: String?, name: String, options: Node?) -> Result<Stored, APIFailure> {
        storage.withLock { storage in
            let key: ObjectKey, existing: Stored
            switch Self.existing(in: storage, typeKey: typeKey, namespace: namespace, name: name) {
            case .failure(let failure): return .failure(failure)
            case .success(let found): (_, key, existing) = found
            }
            var node = existing.node
            if let preconditions = options?["preconditions"] {
                if let uid = preconditions["uid"]?.string, uid != node["metadata"]?["uid"]?.string {
                    return .failure(APIFailure(code: 409, reason: "Conflict", message: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(node["metadata"]?["uid"]?.string ?? "")"))
                }
                if let version = preconditions["resourceVersion"]?.string, version != String(existing.revision) {
                    return .failure(APIFailure(code: 409, reason: "Conflict", message: "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(existing.revision)"))
                }
            }
            storage.revision += 1
            node = Patching.setting(.string(String(storage.revision)), at: ["metadata", "resourceVersion"], in: node)
            let finalizers = node["metadata"]?["finalizers"]?.sequence ?? []
            if !finalizers.isEmpty {
                if node["metadata"]?["deletionTimestamp"] == nil {
                    node = Patching.setting(.string(Self.timestamp()), at: ["metadata", "deletionTimestamp"], in: node)
                }
                var stored = existing
                stored.revision = storage.revision
                stored.json = compactJSON(node)
                storage.objects[typeKey]?[key] = stored
                publish(&storage, Event(type: "MODIFIED", resourceKey: typeKey, object: stored, previousLabels: existing.labels))
                return .success(stored)
            }
            var stored = existing
            stored.revision = storage.revision
            stored.json = compactJSON(node)
            storage.objects[typeKey]?[key] = nil
            storage.sortedKeys[typeKey] = nil
            publish(&storage, Event(type: "DELETED", resourceKey: typeKey, object: stored))
            if typeKey == "namespaces" {
                // Namespace deletion removes everything in it (immediately; no Terminating phase).
                for (otherKey, objects) in storage.objects where storage.types[otherKey]?.namespaced == true {
                    for (objectKey, object) in objects where objectKey.namespace == name {
                        storage.revision += 1
                        var gone = object
                        gone.revision = storage.revision
                        // As kube-apiserver: a DELETED event carries the revision of the deletion.
                        gone.json = compactJSON(Patching.setting(.string(String(storage.revision)), at: ["metadata", "resourceVersion"], in: object.node))
                        storage.objects[otherKey]?[objectKey] = nil
                        publish(&storage, Event(type: "DELETED", resourceKey: otherKey, object: gone))
                    }
                    storage.sortedKeys[otherKey] = nil
                }
            }
            if typeKey == "customresourcedefinitions.apiextensions.k8s.io", let registered = ResourceType.from(crd: node) {
                storage.types[registered.key] = nil
                storage.objects[registered.key] = nil
                storage.sortedKeys[registered.key] = nil
            }
            return .success(stored)
        }
    }

    // MARK: helpers

    /// The stored object a write addresses, or the 404 the API server answers.
    private static func existing(in storage: Storage, typeKey: String, namespace: String?, name: String) -> Result<(ResourceType, ObjectKey, Stored), APIFailure> {
        guard let type = storage.types[typeKey] else { return .failure(APIFailure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")) }
        let key = ObjectKey(namespace: type.namespaced ? namespace ?? "" : "", name: name)
        guard let existing = storage.objects[typeKey]?[key] else { return .failure(.notFound(type, name)) }
        return .success((type, key, existing))
    }

    private func conflict(_ type: ResourceType, _ name: String) -> APIFailure {
        var failure = APIFailure(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(type.key) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again")
        failure.details = (name, type.resource, type.group)
        return failure
    }

    private func invalid(_ type: ResourceType, _ name: String, _ causes: [(String, String)]) -> APIFailure {
        var failure = APIFailure(code: 422, reason: "Invalid", message: "\(type.kind) \"\(name)\" is invalid: " + causes.map { "\($0.0): \($0.1)" }.joined(separator: ", "))
        failure.causes = causes.map { ($0.0, $0.1, "FieldValueInvalid") }
        failure.details = (name, type.resource, type.group)
        return failure
    }

    /// ConfigMaps and Secrets hold at most 1 MiB of data (kube-apiserver's validation).
    private func sizeProblem(_ type: ResourceType, _ node: Node, name: String) -> APIFailure? {
        guard type.key == "configmaps" || type.key == "secrets" else { return nil }
        var total = 0
        for field in ["data", "binaryData", "stringData"] {
            for entry in node[field]?.mapping ?? Mapping() {
                total += entry.key.utf8.count + (entry.value.string?.utf8.count ?? 0)
            }
        }
        guard total > Self.maxConfigDataBytes else { return nil }
        return invalid(type, name, [("[]", "Too long: must have at most \(Self.maxConfigDataBytes) bytes")])
    }

    static func labels(of node: Node) -> [String: String] {
        var labels: [String: String] = [:]
        for entry in node["metadata"]?["labels"]?.mapping ?? Mapping() {
            if let value = entry.value.string { labels[entry.key] = value }
        }
        return labels
    }

    static func serialize(_ node: Node, managers: [String: ManagedFields]) -> [UInt8] {
        var document = node
        if !managers.isEmpty {
            let entries: [Node] = managers.keys.sorted().map { manager in
                let fields = managers[manager]!
                return [
                    "manager": .string(manager), "operation": .string(fields.operation), "apiVersion": .string(fields.apiVersion),
                    "time": .string(fields.time), "fieldsType": "FieldsV1", "fieldsV1": Patching.fieldsV1(fields.paths),
                ]
            }
            document = Patching.setting(.sequence(entries), at: ["metadata", "managedFields"], in: document)
        }
        return compactJSON(document)
    }

    static func establish(_ crd: Node) -> Node {
        let names = crd["spec"]?["names"] ?? .mapping(Mapping())
        let conditions: Node = [
            ["type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": .string(timestamp())],
            ["type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": .string(timestamp())],
        ]
        return Patching.setting(["conditions": conditions, "acceptedNames": names, "storedVersions": .sequence((crd["spec"]?["versions"]?.sequence ?? []).compactMap { $0["storage"] == .bool(true) ? $0["name"] : nil })], at: ["status"], in: crd)
    }

    static func uid(_ revision: Int) -> String {
        let hex = String(revision, radix: 16)
        let padded = String(repeating: "0", count: max(0, 12 - hex.count)) + hex
        return "00000000-0000-4000-8000-\(padded)"
    }

    static func randomSuffix(_ seed: Int) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var value = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64.random(in: 0..<UInt64.max)
        var out = ""
        for _ in 0..<5 {
            out.append(alphabet[Int(value % UInt64(alphabet.count))])
            value /= UInt64(alphabet.count)
        }
        return out
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
