internal import CYAML
import DataTree

/// Parses multi-document YAML (and JSON, which libyaml reads as YAML flow syntax) into `Node`
/// trees through the system libyaml.
///
/// Guarantees: every failure is a `YAMLError` with file, line and column; duplicate keys and
/// non-scalar keys are errors (as for the Kubernetes API server's strict decoding); aliases are
/// expanded, with a cap on the number of expanded nodes so a "billion laughs" document fails
/// instead of exhausting memory; `<<` merge keys are applied; nesting deeper than `maxDepth`
/// is an error at the collection that goes too deep, so parse time stays linear in the input
/// and no tree is deep enough to overflow the stack when it is released.
public struct YAMLParser: Sendable {
    /// The most nodes alias expansion may create in one stream.
    public var maxAliasExpansion: Int
    /// The deepest nesting of collections accepted (Kubernetes objects need a few dozen).
    public var maxDepth: Int

    public init(maxAliasExpansion: Int = 1_000_000, maxDepth: Int = 512) {
        self.maxAliasExpansion = maxAliasExpansion
        self.maxDepth = maxDepth
    }

    /// Parses every document in `bytes`. Documents whose content is empty are returned as `.null`.
    public func parse(_ bytes: [UInt8], file: String) throws(YAMLError) -> [YAMLDocument] {
        let session = ParseSession(file: file, maxAliasExpansion: maxAliasExpansion, maxDepth: maxDepth)
        return try session.run(bytes)
    }

    /// Parses a string; see `parse(_:file:)`.
    public func parse(_ text: String, file: String = "<input>") throws(YAMLError) -> [YAMLDocument] {
        try parse(Array(text.utf8), file: file)
    }
}

/// Owns one `yaml_parser_t` for the length of one parse. Not Sendable: used by one call only.
private final class ParseSession {
    private let file: String
    private let maxAliasExpansion: Int
    private let maxDepth: Int
    private var parser = yaml_parser_t()
    private var anchors: [String: Node] = [:]
    private var expanded = 0

    private enum Frame {
        case sequence(anchor: String?, elements: [Node])
        case mapping(anchor: String?, mapping: Mapping, pendingKey: String?, keyMark: yaml_mark_t, mergeKeys: [Mapping])
    }

    private var stack: [Frame] = []

    init(file: String, maxAliasExpansion: Int, maxDepth: Int) {
        self.file = file
        self.maxAliasExpansion = maxAliasExpansion
        self.maxDepth = maxDepth
    }

    private func checkDepth(_ mark: yaml_mark_t) throws(YAMLError) {
        if stack.count >= maxDepth {
            throw error(mark, "collections nest deeper than \(maxDepth) levels; no Kubernetes object needs that, so the input is refused")
        }
    }

    func run(_ bytes: [UInt8]) throws(YAMLError) -> [YAMLDocument] {
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(file: file, line: 1, column: 1, message: "libyaml could not allocate a parser")
        }
        defer { yaml_parser_delete(&parser) }
        // libyaml keeps a pointer to the input, so the buffer must outlive every parse call.
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { buffer.deallocate() }
        _ = buffer.initialize(from: bytes)
        yaml_parser_set_input_string(&parser, buffer.baseAddress, bytes.count)
        return try readStream()
    }

    private func error(_ mark: yaml_mark_t, _ message: String) -> YAMLError {
        YAMLError(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1, message: message)
    }

    private func parserError() -> YAMLError {
        var message = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        if let context = parser.context {
            message += " \(String(cString: context))"
        }
        if parser.error == YAML_READER_ERROR {
            return YAMLError(file: file, line: 1, column: Int(parser.problem_offset) + 1, message: message)
        }
        return error(parser.problem_mark, message)
    }

    private func readStream() throws(YAMLError) -> [YAMLDocument] {
        var documents: [YAMLDocument] = []
        var documentLine = 1
        var root: Node?
        var awaitingContent = false
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { throw parserError() }
            defer { yaml_event_delete(&event) }
            // A document's line is where its content starts, not its `---` marker.
            if root == nil, stack.isEmpty, awaitingContent,
                [YAML_SCALAR_EVENT, YAML_ALIAS_EVENT, YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT].contains(event.type)
            {
                documentLine = Int(event.start_mark.line) + 1
                awaitingContent = false
            }
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return documents
            case YAML_DOCUMENT_START_EVENT:
                anchors = [:]
                root = nil
                documentLine = Int(event.start_mark.line) + 1
                awaitingContent = true
            case YAML_DOCUMENT_END_EVENT:
                documents.append(YAMLDocument(node: root ?? .null, file: file, line: documentLine, index: documents.count))
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = Self.string(scalar.value, length: scalar.length)
                // Keys are names, not values: `y:` or `1:` name the keys "y" and "1".
                let node = isAwaitingKey
                    ? .string(text)
                    : try resolveScalar(text, tag: scalar.tag.map { String(cString: $0) }, style: scalar.style, mark: event.start_mark)
                if let anchor = scalar.anchor { anchors[String(cString: anchor)] = node }
                try add(node, mark: event.start_mark, into: &root)
            case YAML_ALIAS_EVENT:
                let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                guard let node = anchors[name] else { throw error(event.start_mark, "unknown alias *\(name)") }
                expanded += Self.size(of: node)
                if expanded > maxAliasExpansion {
                    throw error(event.start_mark, "aliases expand to more than \(maxAliasExpansion) nodes; refusing to expand further")
                }
                try add(node, mark: event.start_mark, into: &root, isAlias: true)
            case YAML_SEQUENCE_START_EVENT:
                try checkDepth(event.start_mark)
                stack.append(.sequence(anchor: event.data.sequence_start.anchor.map { String(cString: $0) }, elements: []))
            case YAML_MAPPING_START_EVENT:
                try checkDepth(event.start_mark)
                let anchor = event.data.mapping_start.anchor.map { String(cString: $0) }
                stack.append(.mapping(anchor: anchor, mapping: Mapping(), pendingKey: nil, keyMark: event.start_mark, mergeKeys: []))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { throw error(event.start_mark, "unbalanced collection end") }
                let node: Node
                let anchor: String?
                switch frame {
                case .sequence(let name, let elements):
                    node = .sequence(elements)
                    anchor = name
                case .mapping(let name, var mapping, _, _, let merges):
                    // Explicit keys win over merged ones; earlier merge sources win over later ones.
                    for source in merges {
                        for entry in source where mapping[entry.key] == nil {
                            mapping.appendUnchecked(entry.key, entry.value)
                        }
                    }
                    node = .mapping(mapping)
                    anchor = name
                }
                if let anchor { anchors[anchor] = node }
                try add(node, mark: event.start_mark, into: &root)
            default:
                continue
            }
        }
    }

    private var isAwaitingKey: Bool {
        if case .mapping(_, _, nil, _, _) = stack.last { return true }
        return false
    }

    private func add(_ node: Node, mark: yaml_mark_t, into root: inout Node?, isAlias: Bool = false) throws(YAMLError) {
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch top {
        case .sequence(let anchor, var elements):
            elements.append(node)
            stack.append(.sequence(anchor: anchor, elements: elements))
        case .mapping(let anchor, var mapping, let pendingKey, let keyMark, var merges):
            if let key = pendingKey {
                if key == "<<" {
                    switch node {
                    case .mapping(let source):
                        merges.append(source)
                    case .sequence(let sources):
                        for source in sources {
                            guard case .mapping(let sourceMapping) = source else {
                                throw error(keyMark, "a merge key (<<) takes a mapping or a list of mappings")
                            }
                            merges.append(sourceMapping)
                        }
                    default:
                        throw error(keyMark, "a merge key (<<) takes a mapping or a list of mappings")
                    }
                } else {
                    mapping.appendUnchecked(key, node)
                }
                stack.append(.mapping(anchor: anchor, mapping: mapping, pendingKey: nil, keyMark: keyMark, mergeKeys: merges))
            } else {
                let key: String
                switch node {
                case .string(let text): key = text
                case .int(let value): key = String(value)
                case .bool(let value): key = value ? "true" : "false"
                case .double(let value): key = "\(value)"
                case .null: key = isAlias ? "" : "null"
                case .sequence, .mapping:
                    throw error(mark, "mapping keys must be scalars; found \(node.kindDescription)")
                }
                if key != "<<", mapping[key] != nil {
                    throw error(mark, "duplicate key \"\(key)\" in mapping")
                }
                stack.append(.mapping(anchor: anchor, mapping: mapping, pendingKey: key, keyMark: mark, mergeKeys: merges))
            }
        }
    }

    private func resolveScalar(_ text: String, tag: String?, style: yaml_scalar_style_t, mark: yaml_mark_t) throws(YAMLError) -> Node {
        if let tag, tag != "!" {
            switch tag {
            case "tag:yaml.org,2002:str": return .string(text)
            case "tag:yaml.org,2002:null": return .null
            case "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float":
                let value = ScalarResolver.resolvePlain(text)
                switch (tag, value) {
                case ("tag:yaml.org,2002:bool", .bool), ("tag:yaml.org,2002:int", .int), ("tag:yaml.org,2002:float", .double):
                    return value
                case ("tag:yaml.org,2002:float", .int(let int)):
                    return .double(Double(int))
                default:
                    throw error(mark, "\"\(text)\" is not a valid \(tag)")
                }
            default:
                throw error(mark, "unsupported tag \(tag); only the YAML core tags (!!str, !!int, !!float, !!bool, !!null) are understood")
            }
        }
        if style == YAML_PLAIN_SCALAR_STYLE && tag == nil { return ScalarResolver.resolvePlain(text) }
        return .string(text)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private static func size(of node: Node) -> Int {
        switch node {
        case .sequence(let elements): elements.reduce(1) { $0 + size(of: $1) }
        case .mapping(let mapping): mapping.entries.reduce(1) { $0 + size(of: $1.value) }
        default: 1
        }
    }
}
