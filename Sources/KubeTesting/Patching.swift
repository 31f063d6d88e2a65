import DataTree
import Foundation

/// JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the field-ownership bookkeeping of
/// server-side apply, on `Node` trees.
///
/// Apply is modelled the way the API server behaves for the objects netwatch writes: every
/// leaf (scalar, list or empty map) is a field; lists are atomic (the real server merges some
/// lists by key; netwatch never relies on that). Fields metadata.name/namespace and the
/// server-managed metadata are never owned.
enum Patching {
    struct PatchError: Error { var message: String }

    // MARK: RFC 7386

    static func mergePatch(_ target: Node, _ patch: Node) -> Node {
        guard case .mapping(let patchMap) = patch else { return patch }
        var result: Mapping
        if case .mapping(let existing) = target { result = existing } else { result = Mapping() }
        for entry in patchMap {
            if entry.value == .null {
                result[entry.key] = nil
            } else {
                result[entry.key] = mergePatch(result[entry.key] ?? .null, entry.value)
            }
        }
        return .mapping(result)
    }

    // MARK: RFC 6902

    static func jsonPatch(_ target: Node, _ operations: Node) throws(PatchError) -> Node {
        guard case .sequence(let list) = operations else { throw PatchError(message: "a JSON patch must be a list of operations") }
        var document = target
        for (index, operation) in list.enumerated() {
            guard let op = operation["op"]?.string, let path = operation["path"]?.string else {
                throw PatchError(message: "operation \(index) needs op and path")
            }
            let pointer = try parsePointer(path)
            switch op {
            case "add": document = try set(document, pointer, try value(operation, index), insert: true)
            case "replace":
                _ = try get(document, pointer)
                document = try set(document, pointer, try value(operation, index), insert: false)
            case "remove": document = try remove(document, pointer)
            case "test":
                let actual = try get(document, pointer)
                guard actual == (try value(operation, index)) else {
                    throw PatchError(message: "testing value \(path) failed: the value differs")
                }
            case "move", "copy":
                guard let from = operation["from"]?.string else { throw PatchError(message: "operation \(index) (\(op)) needs from") }
                let source = try parsePointer(from)
                let moved = try get(document, source)
                if op == "move" { document = try remove(document, source) }
                document = try set(document, pointer, moved, insert: true)
            default: throw PatchError(message: "operation \(index): unknown op \(op)")
            }
        }
        return document
    }

    private static func value(_ operation: Node, _ index: Int) throws(PatchError) -> Node {
        guard let value = operation["value"] else { throw PatchError(message: "operation \(index) needs value") }
        return value
    }

    static func parsePointer(_ path: String) throws(PatchError) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw PatchError(message: "\(path) is not a JSON pointer") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    private static func get(_ node: Node, _ pointer: [String]) throws(PatchError) -> Node {
        var current = node
        for token in pointer {
            switch current {
            case .mapping(let map):
                guard let next = map[token] else { throw PatchError(message: "path /\(pointer.joined(separator: "/")) does not exist") }
                current = next
            case .sequence(let items):
                guard let index = Int(token), items.indices.contains(index) else { throw PatchError(message: "index \(token) out of range") }
                current = items[index]
            default: throw PatchError(message: "path /\(pointer.joined(separator: "/")) does not exist")
            }
        }
        return current
    }

    private static func set(_ node: Node, _ pointer: [String], _ value: Node, insert: Bool) throws(PatchError) -> Node {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch node {
        case .mapping(var map):
            if rest.isEmpty {
                map[token] = value
            } else {
                guard let child = map[token] else { throw PatchError(message: "path component \(token) does not exist") }
                map[token] = try set(child, rest, value, insert: insert)
            }
            return .mapping(map)
        case .sequence(var items):
            if rest.isEmpty {
                if token == "-" && insert { items.append(value); return .sequence(items) }
                guard let index = Int(token), index >= 0, index <= items.count, insert || index < items.count else {
                    throw PatchError(message: "index \(token) out of range")
                }
                if insert { items.insert(value, at: index) } else { items[index] = value }
                return .sequence(items)
            }
            guard let index = Int(token), items.indices.contains(index) else { throw PatchError(message: "index \(token) out of range") }
            items[index] = try set(items[index], rest, value, insert: insert)
            return .sequence(items)
        default:
            throw PatchError(message: "cannot add \(token) to a scalar")
        }
    }

    private static func remove(_ node: Node, _ pointer: [String]) throws(PatchError) -> Node {
        guard let token = pointer.first else { throw PatchError(message: "cannot remove the whole document") }
        let rest = Array(pointer.dropFirst())
        switch node {
        case .mapping(var map):
            guard let child = map[token] else { throw PatchError(message: "path component \(token) does not exist") }
            map[token] = rest.isEmpty ? nil : try remove(child, rest)
            return .mapping(map)
        case .sequence(var items):
            guard let index = Int(token), items.indices.contains(index) else { throw PatchError(message: "index \(token) out of range") }
            if rest.isEmpty { items.remove(at: index) } else { items[index] = try remove(items[index], rest) }
            return .sequence(items)
        default: throw PatchError(message: "path component \(token) does not exist")
        }
    }

    // MARK: fields for server-side apply

    /// Paths never owned by a manager.
    static func isUnowned(_ path: [String]) -> Bool {
        guard let first = path.first else { return true }
        if first == "apiVersion" || first == "kind" { return true }
        if first == "metadata", path.count > 1 {
            return ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "deletionTimestamp"].contains(path[1])
        }
        return false
    }

    /// Every leaf path with its value.
    static func leaves(_ node: Node, prefix: [String] = []) -> [[String]: Node] {
        var result: [[String]: Node] = [:]
        if case .mapping(let map) = node, !map.isEmpty {
            for entry in map {
                for (path, value) in leaves(entry.value, prefix: prefix + [entry.key]) { result[path] = value }
            }
        } else if !prefix.isEmpty, !isUnowned(prefix) {
            result[prefix] = node
        }
        return result
    }

    static func value(at path: [String], in node: Node) -> Node? {
        var current: Node? = node
        for key in path { current = current?[key] }
        return current
    }

    static func setting(_ value: Node?, at path: [String], in node: Node) -> Node {
        guard let key = path.first else { return value ?? .null }
        var map: Mapping
        if case .mapping(let existing) = node { map = existing } else { map = Mapping() }
        if path.count == 1 {
            map[key] = value
        } else {
            let child = map[key] ?? .mapping(Mapping())
            let updated = setting(value, at: Array(path.dropFirst()), in: child)
            if value == nil, case .mapping(let inner) = updated, inner.isEmpty {
                map[key] = nil
            } else {
                map[key] = updated
            }
        }
        return .mapping(map)
    }

    /// The `fieldsV1` form of a set of paths: `{"f:data": {"f:key": {}}}`, keys sorted.
    static func fieldsV1(_ paths: Set<[String]>) -> Node {
        var children: [String: Set<[String]>] = [:]
        for path in paths where !path.isEmpty {
            children["f:" + path[0], default: []].insert(Array(path.dropFirst()))
        }
        var map = Mapping()
        for key in children.keys.sorted() {
            map.appendUnchecked(key, fieldsV1(children[key]!.filter { !$0.isEmpty }))
        }
        return .mapping(map)
    }
}

/// One JSON value without the emitter's trailing newline: stored objects are spliced into
/// list bodies and newline-delimited watch lines.
func compactJSON(_ node: Node) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(512)
    JSONEmitter(style: .compact).write(node, indent: 0, into: &out)
    return out
}
