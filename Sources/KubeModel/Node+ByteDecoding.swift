public import DataTree

/// Objects kept whole as a `Node` tree (namespaces, services, workloads, netwatch's and
/// prometheus-operator's custom resources) read straight from JSON bytes: the same tree
/// `JSONReader` builds — key order kept, a duplicate key refused, integers that fit in `Int`
/// as `.int` and other numbers as `.double`, no trailing commas — in one pass, with no
/// intermediate representation. Member names longer than 15 bytes (label keys, annotation keys)
/// and the values of `labels` and `matchLabels` are interned from their bytes, so a cache of
/// many objects holds each once.
///
/// Objects as a list page or watch event delivers them (`init(readingListed:)`) drop
/// `metadata.managedFields` without building it: nothing netwatch caches reads it, and it is
/// often the largest part of an object. Skipped like that, its strings are checked only for
/// where they end, as the pod projection's skipped members are.
///
/// Nesting deeper than `JSONCursor.treeDepthLimit` is refused here, so the `Decodable` path
/// (with its own, wider limit) reads such a document; reading recurses once per level.
extension Node: ByteDecodable {
    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        self = try cursor.tree(depth: 0, context: .plain)
    }

    public init(readingListed cursor: inout JSONCursor) throws(JSONCursorError) {
        self = try cursor.tree(depth: 0, context: .listedObject)
    }
}

extension JSONCursor {
    /// Levels the tree reader follows before refusing (the caller then takes the tree path).
    static let treeDepthLimit = 200

    /// Where in an object a value sits, for what the tree reader does with it.
    enum TreeContext {
        case plain
        /// A label map and what it holds: string values are interned.
        case labels
        /// The root of an object from a list or a watch.
        case listedObject
        /// That object's metadata: `managedFields` is skipped.
        case listedMetadata

        func child(_ key: String) -> TreeContext {
            if self == .labels { return .labels }
            if self == .listedObject, key == "metadata" { return .listedMetadata }
            return key == "labels" || key == "matchLabels" ? .labels : .plain
        }
    }

    mutating func tree(depth: Int, context: TreeContext) throws(JSONCursorError) -> Node {
        switch try peek() {
        case UInt8(ascii: "{"): return try treeMapping(depth: depth + 1, context: context)
        case UInt8(ascii: "["): return try treeSequence(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try readString(interned: context == .labels))
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            let range = try numberRange()
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            let isInteger = !bytes[range].contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }
            if isInteger, let value = Int(text) { return .int(value) }
            guard let value = Double(text) else { throw error("\(text) is not a number") }
            return .double(value)
        }
    }

    private mutating func treeMapping(depth: Int, context: TreeContext) throws(JSONCursorError) -> Node {
        guard depth <= Self.treeDepthLimit else { throw error("nested deeper than \(Self.treeDepthLimit) levels") }
        index += 1
        var mapping = Mapping()
        var seen: Set<String> = []
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return .mapping(mapping)
        }
        while true {
            guard try peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try treeKey()
            // Small objects (nearly all) check by scanning; large ones by a set, so reading stays linear.
            let duplicate = mapping.count < 16 ? mapping.entries.contains { $0.key == key } : !seen.insert(key).inserted
            if mapping.count == 15 { seen = Set(mapping.keys + [key]) }
            guard !duplicate else { throw error("duplicate member \"\(key)\"") }
            guard try peek() == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
            index += 1
            if context == .listedMetadata, key == "managedFields" {
                try skipValue()
            } else {
                do throws(JSONCursorError) {
                    mapping.appendUnchecked(key, try tree(depth: depth, context: context.child(key)))
                } catch {
                    var located = error
                    located.path.insert(key, at: 0)
                    throw located
                }
            }
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .mapping(mapping)
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func treeSequence(depth: Int) throws(JSONCursorError) -> Node {
        guard depth <= Self.treeDepthLimit else { throw error("nested deeper than \(Self.treeDepthLimit) levels") }
        index += 1
        var items: [Node] = []
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return .sequence(items)
        }
        while true {
            do throws(JSONCursorError) {
                items.append(try tree(depth: depth, context: .plain))
            } catch {
                var located = error
                located.path.insert("[\(items.count)]", at: 0)
                throw located
            }
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .sequence(items)
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    /// A member name, interned from its bytes when long enough to be stored out of line.
    private mutating func treeKey() throws(JSONCursorError) -> String {
        let key = try readKey()
        if let decoded = key.decoded { return intern(decoded) }
        if key.bytes.count > 15, let interner, let shared = interner.intern(bytes: key.bytes) { return shared }
        return String(decoding: key.bytes, as: UTF8.self)
    }
}
