/// An ordered document tree: what YAML and JSON documents parse into and what every generator
/// builds before it is emitted.
///
/// Mappings keep their insertion order, so a tree built in a fixed order always emits the same
/// bytes; nothing here iterates a `Dictionary`.
public enum Node: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case sequence([Node])
    case mapping(Mapping)

    /// The kind of value, as used in error messages ("expected a string, found a mapping").
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    /// The mapping, when this node is one.
    public var mapping: Mapping? {
        if case .mapping(let mapping) = self { return mapping }
        return nil
    }

    /// The string, when this node is one.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, when this node is a sequence.
    public var sequence: [Node]? {
        if case .sequence(let elements) = self { return elements }
        return nil
    }

    /// Looks a key up when this node is a mapping; `nil` otherwise.
    public subscript(key: String) -> Node? {
        mapping?[key]
    }
}

/// An ordered mapping with string keys. Keys are unique: `set` replaces in place and keeps
/// the key's original position.
public struct Mapping: Sendable, Hashable, Sequence {
    /// One key and its value.
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: Node

        public init(key: String, value: Node) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var entries: [Entry]

    public init() {
        entries = []
    }

    /// Builds a mapping from pairs in order; a repeated key keeps its first position and last value.
    public init(_ pairs: [(String, Node)]) {
        entries = []
        entries.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }

    public subscript(key: String) -> Node? {
        get { entries.first(where: { $0.key == key })?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    /// Appends without checking for an existing key. For builders that know their keys are new,
    /// where the linear search of the subscript would make building quadratic.
    public mutating func appendUnchecked(_ key: String, _ value: Node) {
        entries.append(Entry(key: key, value: value))
    }

    public func makeIterator() -> IndexingIterator<[Entry]> {
        entries.makeIterator()
    }
}

extension Node: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: Node...) { self = .sequence(elements) }
    /// Dictionary literals keep their written order.
    public init(dictionaryLiteral elements: (String, Node)...) { self = .mapping(Mapping(elements)) }
    public init(nilLiteral: ()) { self = .null }
}

extension Node {
    /// A mapping from string pairs, sorted by key: the form labels and annotations are emitted in.
    public static func sortedStringMap(_ dictionary: [String: String]) -> Node {
        var mapping = Mapping()
        for key in dictionary.keys.sorted() {
            mapping.appendUnchecked(key, .string(dictionary[key] ?? ""))
        }
        return .mapping(mapping)
    }

    /// The string entries of a mapping (labels, annotations, matchLabels); empty for anything
    /// else. Entries whose values are not strings are left out.
    public var stringValues: [String: String] {
        guard case .mapping(let map) = self else { return [:] }
        var out: [String: String] = [:]
        for entry in map { if let value = entry.value.string { out[entry.key] = value } }
        return out
    }

    /// A sequence of strings.
    public static func strings(_ values: [String]) -> Node {
        .sequence(values.map(Node.string))
    }
}
