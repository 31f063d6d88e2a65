public import KubeModel
import Foundation

/// List pages and watch events of projections that read themselves from bytes (`ByteDecodable`,
/// such as `Pod`): the envelope is read by the same cursor, so a page of pods is decoded in
/// one pass over its bytes with nothing else built. Anything the fast path cannot read (an
/// ERROR event, a malformed item) is handed back to the `Decodable` path, which reports it as
/// before.

/// The member names of list and watch envelopes, made once (generic types cannot hold static
/// stored properties, and building them per page or event would allocate each time).
private enum EnvelopeKeys {
    static let list = JSONKeys("items", "metadata")
    static let listMeta = JSONKeys("resourceVersion", "continue", "remainingItemCount")
    static let metadata = JSONKeys("metadata")
    static let bookmarkMeta = JSONKeys("resourceVersion", "annotations")
    static let event = JSONKeys("type", "object")
    static let continueToken = JSONKeys("continue")
}

extension ObjectList: ByteDecodable where Item: ByteDecodable {
    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        var items: [Item] = []
        var resourceVersion = ""
        var continueToken: String?
        var remainingItemCount: Int?
        try cursor.members(EnvelopeKeys.list) { (cursor, member) throws(JSONCursorError) in
            if member == 0 {
                if try !cursor.skipNull() {
                    try cursor.array { (cursor) throws(JSONCursorError) in items.append(try Item(readingListed: &cursor)) }
                }
            } else if try !cursor.skipNull() {
                try cursor.members(EnvelopeKeys.listMeta) { (cursor, member) throws(JSONCursorError) in
                    switch member {
                    case 0: resourceVersion = try cursor.optionalString() ?? ""
                    case 1: continueToken = try cursor.optionalString()
                    default: remainingItemCount = try cursor.optionalInt()
                    }
                }
            }
        }
        self.init(items: items, resourceVersion: resourceVersion, continueToken: continueToken.flatMap { $0.isEmpty ? nil : $0 },
                  remainingItemCount: remainingItemCount)
    }
}

extension WatchEnvelope: ByteDecodable where Object: ByteDecodable {
    init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        var type: String?
        var objectOffset: Int?
        var decoded: Decoded?
        let start = cursor.offset
        /// The event's object, once its type is known.
        func event(_ cursor: inout JSONCursor, _ type: String) throws(JSONCursorError) -> Decoded {
            switch type {
            case "ADDED": return .event(.added(try Object(readingListed: &cursor)))
            case "MODIFIED": return .event(.modified(try Object(readingListed: &cursor)))
            case "DELETED": return .event(.deleted(try Object(readingListed: &cursor)))
            case "BOOKMARK":
                var resourceVersion = ""
                var initialEventsEnd = false
                try cursor.members(EnvelopeKeys.metadata) { (cursor, _) throws(JSONCursorError) in
                    try cursor.members(EnvelopeKeys.bookmarkMeta) { (cursor, member) throws(JSONCursorError) in
                        if member == 0 {
                            resourceVersion = try cursor.optionalString() ?? ""
                        } else {
                            initialEventsEnd = try cursor.stringMap()["k8s.io/initial-events-end"] == "true"
                        }
                    }
                }
                return .event(.bookmark(resourceVersion: resourceVersion, initialEventsEnd: initialEventsEnd))
            default:
                // ERROR (a Status) and unknown types: the Decodable path reads and reports them.
                throw JSONCursorError(offset: cursor.offset, path: ["type"], message: "event type \(type) is read by the Decodable path")
            }
        }
        try cursor.members(EnvelopeKeys.event) { (cursor, member) throws(JSONCursorError) in
            if member == 0 {
                type = try cursor.string()
            } else if let type {
                decoded = try event(&cursor, type)
            } else {
                objectOffset = cursor.offset
                try cursor.skipValue()
            }
        }
        guard let type else { throw JSONCursorError(offset: start, path: ["type"], message: "required member missing") }
        if decoded == nil, let objectOffset {
            // The object came before the type: read it again now that the type is known.
            let end = cursor.offset
            cursor.rewind(to: objectOffset)
            decoded = try event(&cursor, type)
            cursor.rewind(to: end)
        }
        guard let decoded else { throw JSONCursorError(offset: start, path: ["object"], message: "required member missing") }
        self.decoded = decoded
    }
}

/// The continue token of a list body whose metadata comes before its items (as Kubernetes
/// writes them), read without reading the items.
enum ObjectListPrefix {
    /// The non-empty token; nil when there is none, or the items come first, or the bytes are
    /// not a list (the page's decoder then decides).
    static func continueToken(in body: [UInt8]) -> String? {
        let stop = JSONCursorError(offset: 0, path: [], message: "stop")
        var token: String?
        _ = try? body.withUnsafeBufferPointer { (buffer) throws(JSONCursorError) in
            var cursor = JSONCursor(buffer)
            try cursor.object { (cursor, key) throws(JSONCursorError) in
                switch key.string {
                case "metadata":
                    try cursor.members(EnvelopeKeys.continueToken) { (cursor, _) throws(JSONCursorError) in token = try cursor.optionalString() }
                    throw stop
                case "items": throw stop
                default: try cursor.skipValue()
                }
            }
        }
        return token.flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension BodyDecoder {
    /// The value read by its `ByteDecodable` conformance, or nil when `T` has none or the bytes
    /// are not what it reads (the `Decodable` path then decides, and reports).
    static func fastDecode<T>(_ type: T.Type, from bytes: [UInt8], interner: StringInterner?) -> T? {
        guard let readable = type as? any ByteDecodable.Type else { return nil }
        func read<U: ByteDecodable>(_ type: U.Type) -> U? { try? JSONCursor.decode(type, from: bytes, interner: interner) }
        return read(readable) as? T
    }
}

extension WatchEvent {
    /// One line of a watch response decoded as `WatchStream` decodes it (the byte decoder where
    /// `Object` has one); an ERROR event throws its `Status` as an `APIError`. For benchmarks and
    /// tools that hold event lines.
    public static func decode(line: [UInt8], resource: APIResource, interner: StringInterner? = nil) throws -> WatchEvent<Object> {
        if case .event(let event)? = BodyDecoder.fastDecode(WatchEnvelope<Object>.self, from: line, interner: interner)?.decoded { return event }
        let decoder = JSONDecoder()
        decoder.userInfo[StringInterner.userInfoKey] = interner
        switch try BodyDecoder.decode(WatchEnvelope<Object>.self, from: line, using: decoder).decoded {
        case .event(let event): return event
        case .error(let status):
            throw APIError(verb: "watch", resource: resource, namespace: nil, name: nil, code: status.code ?? 500, status: status)
        }
    }
}
