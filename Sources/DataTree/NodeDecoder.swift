/// Decodes `Decodable` values from a `Node` tree.
///
/// Errors are `NodeDecodingError`s carrying the field path of the offending value. Type
/// mismatches are not coerced: a number where a string is expected is an error, as it is for
/// the Kubernetes API server. Keys the type does not know are ignored; strict validation of
/// unknown fields is the job of a schema (see `KubeModel.Schema`).
public struct NodeDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from node: Node, at path: FieldPath = FieldPath()) throws(NodeDecodingError) -> T {
        do {
            return try NodeDecoding.value(T.self, from: node, path: path)
        } catch let error as NodeDecodingError {
            throw error
        } catch {
            throw NodeDecodingError(path: path, message: "\(error)")
        }
    }
}

/// A value that could not be decoded: where, and why.
public struct NodeDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: FieldPath
    public var message: String

    public init(path: FieldPath, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

struct NodeDecoding: Decoder {
    let node: Node
    let path: FieldPath

    /// A value of type `T` read from `node`. String maps (labels, annotations, the bulk of most
    /// objects' keyed values) are built straight from a mapping of strings: the generic
    /// `Dictionary` path makes a coding key and a field path per entry. Anything else, and a
    /// map holding a value that is not a string (to report it), takes the generic path.
    static func value<T: Decodable>(_ type: T.Type, from node: Node, path: FieldPath) throws -> T {
        if T.self == [String: String].self, case .mapping(let mapping) = node {
            var map = [String: String](minimumCapacity: mapping.count)
            for entry in mapping.entries {
                guard case .string(let value) = entry.value else { return try T(from: NodeDecoding(node: node, path: path)) }
                map[entry.key] = value
            }
            if let map = map as? T { return map }
        }
        return try T(from: NodeDecoding(node: node, path: path))
    }
    var codingPath: [any CodingKey] {
        path.components.map { component in
            switch component {
            case .key(let key): AnyKey(stringValue: key)
            case .index(let index): AnyKey(intValue: index)
            }
        }
    }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let mapping) = node else {
            throw NodeDecodingError(path: path, message: "expected a mapping, found \(node.kindDescription)")
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(mapping: mapping, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let elements) = node else {
            throw NodeDecodingError(path: path, message: "expected a list, found \(node.kindDescription)")
        }
        return UnkeyedContainer(elements: elements, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValue(node: node, path: path)
    }
}

private func mismatch(_ expected: String, _ node: Node, _ path: FieldPath) -> NodeDecodingError {
    var message = "expected \(expected), found \(node.kindDescription)"
    switch (expected, node) {
    case ("a string", .int), ("a string", .bool), ("a string", .double):
        message += "; quote the value to make it a string"
    default:
        break
    }
    return NodeDecodingError(path: path, message: message)
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let mapping: Mapping
    let path: FieldPath
    var codingPath: [any CodingKey] { NodeDecoding(node: .null, path: path).codingPath }
    var allKeys: [Key] { mapping.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        mapping[key.stringValue] != nil
    }

    private func value(_ key: Key) throws -> Node {
        guard let value = mapping[key.stringValue] else {
            throw NodeDecodingError(path: path.appending(key.stringValue), message: "required field is missing")
        }
        return value
    }

    /// Explicit `null` reads as absent, as it does for the Kubernetes API.
    func decodeNil(forKey key: Key) throws -> Bool {
        (mapping[key.stringValue] ?? .null) == .null
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try SingleValue(node: value(key), path: path.appending(key.stringValue)).decode(type) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try NodeDecoding.value(type, from: value(key), path: path.appending(key.stringValue))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try NodeDecoding(node: value(key), path: path.appending(key.stringValue)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoding(node: value(key), path: path.appending(key.stringValue)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { NodeDecoding(node: .mapping(mapping), path: path) }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        NodeDecoding(node: mapping[key.stringValue] ?? .null, path: path.appending(key.stringValue))
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [Node]
    let path: FieldPath
    var currentIndex = 0
    var codingPath: [any CodingKey] { NodeDecoding(node: .null, path: path).codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(elements: [Node], path: FieldPath) {
        self.elements = elements
        self.path = path
    }

    private mutating func next() throws -> (Node, FieldPath) {
        guard !isAtEnd else { throw NodeDecodingError(path: path, message: "list ended early") }
        defer { currentIndex += 1 }
        return (elements[currentIndex], path.appending(index: currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if elements[currentIndex] == .null {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (node, elementPath) = try next(); return try SingleValue(node: node, path: elementPath).decode(type) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (node, elementPath) = try next()
        return try NodeDecoding.value(type, from: node, path: elementPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        let (node, elementPath) = try next()
        return try NodeDecoding(node: node, path: elementPath).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (node, elementPath) = try next()
        return try NodeDecoding(node: node, path: elementPath).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (node, elementPath) = try next()
        return NodeDecoding(node: node, path: elementPath)
    }
}

private struct SingleValue: SingleValueDecodingContainer {
    let node: Node
    let path: FieldPath
    var codingPath: [any CodingKey] { NodeDecoding(node: .null, path: path).codingPath }

    func decodeNil() -> Bool { node == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let value) = node else { throw mismatch("a boolean", node, path) }
        return value
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let value) = node else { throw mismatch("a string", node, path) }
        return value
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch node {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: throw mismatch("a number", node, path)
        }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .int(let value) = node else { throw mismatch("an integer", node, path) }
        guard let converted = I(exactly: value) else {
            throw NodeDecodingError(path: path, message: "\(value) is out of range for \(I.self)")
        }
        return converted
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: NodeDecoding(node: node, path: path)) }
}

extension Node: Decodable {
    /// A `Node` decodes as the subtree itself when read through `NodeDecoder`, so types can keep
    /// free-form parts (user relabelings, preserved fields) as they were written.
    public init(from decoder: any Decoder) throws {
        guard let nodeDecoder = decoder as? NodeDecoding else {
            throw DecodingError.typeMismatch(
                Node.self, .init(codingPath: decoder.codingPath, debugDescription: "Node decodes only through NodeDecoder"))
        }
        self = nodeDecoder.node
    }
}
