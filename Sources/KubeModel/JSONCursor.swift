import DataTree
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure reading JSON into a projection: what was wrong, the byte offset, and the field path
/// (outermost first) of the value being read.
public struct JSONCursorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var path: [String]
    public var message: String

    public init(offset: Int, path: [String], message: String) {
        self.offset = offset
        self.path = path
        self.message = message
    }

    public var description: String {
        let field = path.isEmpty ? "" : " at \(path.joined(separator: "."))"
        return "\(message)\(field) (byte \(offset))"
    }
}

/// Reads JSON straight from bytes into projections: each projection asks for the members it
/// keeps and the cursor skips the rest without building them.
///
/// Guarantees: never reads outside the buffer; nesting is limited (`maximumDepth`) and skipped
/// iteratively, so no input exhausts the stack; strings are validated as UTF-8 and their escapes
/// decoded as JSON requires (surrogate pairs combined, lone surrogates rejected); numbers follow
/// JSON's grammar; a value of the wrong type is an error naming the field. Long strings that
/// repeat across objects are interned from their bytes, before any `String` is made.
public struct JSONCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int
    let interner: StringInterner?
    let maximumDepth: Int
    var depth = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>, interner: StringInterner? = nil, maximumDepth: Int = 1_000) {
        self.bytes = bytes
        index = 0
        self.interner = interner
        self.maximumDepth = maximumDepth
    }

    /// Reads one projection from a whole document (nothing but whitespace may follow).
    public static func decode<T: ByteDecodable>(_ type: T.Type, from bytes: [UInt8], interner: StringInterner? = nil) throws(JSONCursorError) -> T {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONCursorError) -> T in
            var cursor = JSONCursor(buffer, interner: interner)
            let value = try T(reading: &cursor)
            cursor.skipWhitespace()
            guard cursor.index == buffer.count else { throw cursor.error("unexpected bytes after the JSON value") }
            return value
        }
    }

    public var offset: Int { index }

    /// Moves back to an offset read before (to read a member whose meaning depends on a later one).
    public mutating func rewind(to offset: Int) {
        index = min(max(offset, 0), bytes.count)
    }

    func error(_ message: String) -> JSONCursorError {
        JSONCursorError(offset: index, path: [], message: message)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// The next non-whitespace byte, not consumed.
    mutating func peek() throws(JSONCursorError) -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of JSON") }
        return bytes[index]
    }

    mutating func literal(_ word: StaticString) throws(JSONCursorError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of JSON") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    /// Consumes `null` if it is next.
    public mutating func skipNull() throws(JSONCursorError) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    // MARK: containers

    /// Calls `member` with each key of the object that comes next; `member` must consume the
    /// value (read it, or `skipValue()`). Errors inside a member gain the key in their path.
    public mutating func object(_ member: (inout JSONCursor, JSONKey) throws(JSONCursorError) -> Void) throws(JSONCursorError) {
        guard try peek() == UInt8(ascii: "{") else { throw error("expected an object") }
        try enter()
        index += 1
        if try peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            guard try peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try readKey()
            guard try peek() == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
            index += 1
            do throws(JSONCursorError) {
                try member(&self, key)
            } catch {
                var located = error
                located.path.insert(key.description, at: 0)
                throw located
            }
            switch try peek() {
            case UInt8(ascii: ","):
                index += 1
                // A trailing comma is accepted, as Foundation's decoder accepts it.
                if try peek() == UInt8(ascii: "}") {
                    index += 1
                    depth -= 1
                    return
                }
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    /// Calls `member` with the position in `keys` of each member the projection reads; other
    /// members are skipped, and so is a member seen before in the same object (the first one
    /// counts, as with Foundation's decoder).
    public mutating func members(_ keys: JSONKeys, _ member: (inout JSONCursor, Int) throws(JSONCursorError) -> Void) throws(JSONCursorError) {
        var seen: UInt64 = 0
        try object { (cursor, key) throws(JSONCursorError) in
            guard let position = keys.position(of: key), seen & (1 << position) == 0 else { return try cursor.skipValue() }
            seen |= 1 << position
            try member(&cursor, position)
        }
    }

    /// Calls `element` for each element of the array that comes next (which must consume it).
    public mutating func array(_ element: (inout JSONCursor) throws(JSONCursorError) -> Void) throws(JSONCursorError) {
        guard try peek() == UInt8(ascii: "[") else { throw error("expected an array") }
        try enter()
        index += 1
        if try peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        var position = 0
        while true {
            do throws(JSONCursorError) {
                try element(&self)
            } catch {
                var located = error
                located.path.insert("[\(position)]", at: 0)
                throw located
            }
            position += 1
            switch try peek() {
            case UInt8(ascii: ","):
                index += 1
                if try peek() == UInt8(ascii: "]") {
                    index += 1
                    depth -= 1
                    return
                }
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    /// An array of projections; `null` is empty.
    public mutating func arrayOf<T: ByteDecodable>(_ type: T.Type) throws(JSONCursorError) -> [T] {
        if try skipNull() { return [] }
        var items: [T] = []
        try array { (cursor) throws(JSONCursorError) in items.append(try T(reading: &cursor)) }
        return items
    }

    /// An object of strings (labels, annotations), keys and values interned; `null` is empty.
    /// With an interner, a map whose bytes were read before is not read again: the map read
    /// then is handed out, so the pods of one workload hold one map.
    public mutating func stringMap() throws(JSONCursorError) -> [String: String] {
        if try skipNull() { return [:] }
        guard let interner else { return try readStringMap() }
        let start = index
        try skipValue()
        let span = UnsafeBufferPointer(rebasing: bytes[start..<index])
        let hash = SharedValues.bytesHash(span)
        if let held = interner.stringMap(readFrom: span, hash: hash) { return held }
        let end = index
        index = start
        let map = try readStringMap()
        guard index == end else { throw error("the map ends elsewhere when read") }
        interner.hold(map, readFrom: span, hash: hash)
        return map
    }

    private mutating func readStringMap() throws(JSONCursorError) -> [String: String] {
        var map: [String: String] = [:]
        try object { (cursor, key) throws(JSONCursorError) in
            map[cursor.intern(key.string)] = try cursor.string(interned: true)
        }
        return map
    }

    /// Container lists and owner references equal to ones read before share their storage.
    func shared(_ containers: [Container]) -> [Container] {
        guard let interner, !containers.isEmpty else { return containers }
        return interner.shared(containers)
    }

    func shared(_ owners: [OwnerReference]) -> [OwnerReference] {
        guard let interner, !owners.isEmpty else { return owners }
        return interner.shared(owners)
    }

    private mutating func enter() throws(JSONCursorError) {
        depth += 1
        guard depth <= maximumDepth else { throw error("nested deeper than \(maximumDepth) levels") }
    }

    // MARK: scalars

    public mutating func bool() throws(JSONCursorError) -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"): try literal("true"); return true
        case UInt8(ascii: "f"): try literal("false"); return false
        default: throw error("expected true or false")
        }
    }

    public mutating func optionalBool() throws(JSONCursorError) -> Bool? {
        try skipNull() ? nil : try bool()
    }

    /// An integer: JSON's number grammar; a fraction or exponent is accepted when the value is a
    /// whole number that fits (as Foundation's decoder does).
    public mutating func int() throws(JSONCursorError) -> Int {
        let start = index
        let range = try numberRange()
        var value = 0
        var negative = false
        var position = range.lowerBound
        if bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var whole = true
        while position < range.upperBound {
            let digit = bytes[position]
            guard digit >= 0x30, digit <= 0x39 else {
                whole = false
                break
            }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = negative ? times.subtractingReportingOverflow(Int(digit - 0x30)) : times.addingReportingOverflow(Int(digit - 0x30))
            guard !overflow1, !overflow2 else {
                index = start
                throw error("number does not fit in Int")
            }
            value = sum
            position += 1
        }
        if whole { return value }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard let double = Double(text), double.rounded() == double, let exact = Int(exactly: double) else {
            index = start
            throw error("number \(text) is not a whole number that fits in Int")
        }
        return exact
    }

    public mutating func optionalInt() throws(JSONCursorError) -> Int? {
        try skipNull() ? nil : try int()
    }

    /// The bytes of the number that comes next, checked against JSON's grammar.
    mutating func numberRange() throws(JSONCursorError) -> Range<Int> {
        skipWhitespace()
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - first
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 else {
            index = start
            throw error("expected a value")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            _ = digits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("expected digits in the exponent") }
        }
        return start..<index
    }

    // MARK: strings

    /// A string value; `interned` shares long strings that repeat through the interner.
    public mutating func string(interned: Bool = false) throws(JSONCursorError) -> String {
        guard try peek() == UInt8(ascii: "\"") else { throw error("expected a string") }
        return try readString(interned: interned)
    }

    /// The string that comes next, or nil for null, as `make` builds it from its UTF-8 bytes:
    /// an unescaped string's straight from the buffer, so a value packed from them (an id)
    /// makes no `String` on the way; an escaped one is decoded first.
    mutating func optionalStringValue<T>(_ make: (UnsafeBufferPointer<UInt8>) -> T) throws(JSONCursorError) -> T? {
        if try skipNull() { return nil }
        guard try peek() == UInt8(ascii: "\"") else { throw error("expected a string") }
        let start = index
        let (range, escaped) = try stringRange()
        if !escaped { return make(UnsafeBufferPointer(rebasing: bytes[range])) }
        index = start
        var decoded = try decodeEscapedString()
        return decoded.withUTF8 { make($0) }
    }

    public mutating func optionalString(interned: Bool = false) throws(JSONCursorError) -> String? {
        try skipNull() ? nil : try string(interned: interned)
    }

    func intern(_ string: String) -> String {
        interner?.intern(string) ?? string
    }

    mutating func readKey() throws(JSONCursorError) -> JSONKey {
        let start = index
        let (range, escaped) = try stringRange()
        if !escaped { return JSONKey(bytes: UnsafeBufferPointer(rebasing: bytes[range]), decoded: nil) }
        index = start
        return JSONKey(bytes: UnsafeBufferPointer(rebasing: bytes[range]), decoded: try readString(interned: false))
    }

    mutating func readString(interned: Bool) throws(JSONCursorError) -> String {
        let start = index
        let (range, escaped) = try stringRange()
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        if !escaped {
            if interned, raw.count > 15, let interner, let shared = interner.intern(bytes: raw) { return shared }
            // stringRange validated any non-ASCII bytes, so decoding repairs nothing.
            let string = String(decoding: raw, as: UTF8.self)
            return interned ? intern(string) : string
        }
        index = start
        let decoded = try decodeEscapedString()
        return interned ? intern(decoded) : decoded
    }

    /// Finds the string that starts at the quote under the cursor and moves past it: the range
    /// of its content and whether it holds escapes. Checks escapes and UTF-8.
    private mutating func stringRange() throws(JSONCursorError) -> (Range<Int>, escaped: Bool) {
        index += 1
        let start = index
        var escaped = false
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let range = start..<index
                index += 1
                if !ascii, !escaped, String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) == nil {
                    index = start
                    throw error("invalid UTF-8 in a string")
                }
                return (range, escaped)
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                guard index + 1 < bytes.count else { break }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    index += 2
                    _ = try hex4()
                default:
                    index += 1
                    throw error("invalid escape in a string")
                }
                continue
            }
            if byte < 0x20 { throw error("control character in a string") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        index = min(index, bytes.count)
        throw error("unterminated string")
    }

    /// Decodes the escaped string under the cursor (at its opening quote).
    private mutating func decodeEscapedString() throws(JSONCursorError) -> String {
        index += 1
        var utf8: [UInt8] = []
        do throws(JSONStringBody.Problem) {
            try JSONStringBody.decode(bytes, index: &index, into: &utf8)
        } catch {
            throw self.error(error.message)
        }
        guard let string = String(validating: utf8, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
        return string
    }

    private mutating func hex4() throws(JSONCursorError) -> UInt32 {
        do throws(JSONStringBody.Problem) {
            return try JSONStringBody.hex4(bytes, &index)
        } catch {
            throw self.error(error.message)
        }
    }
}

/// A member name as it appears in the bytes (decoded when it holds escapes).
public struct JSONKey: CustomStringConvertible {
    let bytes: UnsafeBufferPointer<UInt8>
    let decoded: String?

    public var string: String { decoded ?? String(decoding: bytes, as: UTF8.self) }
    public var description: String { string }
}

/// The member names a projection reads (at most 64), matched against a key's bytes.
public struct JSONKeys: Sendable {
    /// Every name's bytes, one after another.
    let packed: [UInt8]
    /// Per name: its signature (length, first and last byte; checked before the bytes
    /// themselves) in the high 32 bits and its offset in `packed` in the low 32 bits. One flat
    /// array, so a lookup touches no nested array and retains nothing.
    let entries: [UInt64]

    public init(_ names: String...) {
        precondition(names.count <= 64)
        var packed: [UInt8] = []
        entries = names.map { name in
            let bytes = Array(name.utf8)
            defer { packed += bytes }
            return UInt64(Self.signature(count: bytes.count, first: bytes.first ?? 0, last: bytes.last ?? 0)) << 32 | UInt64(packed.count)
        }
        self.packed = packed
    }

    static func signature(count: Int, first: UInt8, last: UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: count) << 16 | UInt32(first) << 8 | UInt32(last)
    }

    func position(of key: JSONKey) -> Int? {
        if let decoded = key.decoded {
            var decoded = decoded
            return decoded.withUTF8 { position(ofBytes: $0) }
        }
        return position(ofBytes: key.bytes)
    }

    private func position(ofBytes bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let signature = UInt64(bytes.isEmpty ? Self.signature(count: 0, first: 0, last: 0) : Self.signature(count: bytes.count, first: bytes[0], last: bytes[bytes.count - 1]))
        return entries.withUnsafeBufferPointer { entries in
            packed.withUnsafeBufferPointer { packed in
                for position in entries.indices where entries[position] >> 32 == signature {
                    let offset = Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: entries[position]))
                    if bytes.isEmpty || memcmp(packed.baseAddress! + offset, bytes.baseAddress!, bytes.count) == 0 { return position }
                }
                return nil
            }
        }
    }
}

/// A projection read straight from JSON bytes by a `JSONCursor`.
public protocol ByteDecodable {
    init(reading cursor: inout JSONCursor) throws(JSONCursorError)
    /// Reads the value as an item of a list page or the object of a watch event, where a
    /// projection may leave out what a cache never reads (by default: as `init(reading:)`).
    init(readingListed cursor: inout JSONCursor) throws(JSONCursorError)
}

extension ByteDecodable {
    public init(readingListed cursor: inout JSONCursor) throws(JSONCursorError) {
        try self.init(reading: &cursor)
    }
}
