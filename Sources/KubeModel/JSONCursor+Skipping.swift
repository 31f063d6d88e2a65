#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Skipping values a projection does not read: by their structure alone, building nothing, and
/// accepting exactly what Foundation's scanner accepts in values it skips (so both decoders
/// refuse the same documents).
extension JSONCursor {
    /// Skips the next value, validating its structure, without building anything. Iterative:
    /// nesting costs no stack.
    public mutating func skipValue() throws(JSONCursorError) {
        var nesting = ContainerStack()
        var expectValue = true
        while true {
            let byte = try peek()
            if expectValue {
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard depth + nesting.count < maximumDepth else { throw error("nested deeper than \(maximumDepth) levels") }
                    let isObject = byte == UInt8(ascii: "{")
                    nesting.push(object: isObject)
                    index += 1
                    if try peek() == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        index += 1
                        nesting.pop()
                        expectValue = false
                    } else if isObject {
                        try skipMemberName()
                    }
                    if expectValue { continue }
                case UInt8(ascii: "\""): try skipString(); expectValue = false
                case UInt8(ascii: "t"): try literal("true"); expectValue = false
                case UInt8(ascii: "f"): try literal("false"); expectValue = false
                case UInt8(ascii: "n"): try literal("null"); expectValue = false
                default:
                    try skipNumber()
                    expectValue = false
                }
            }
            // After a value: close containers or move to the next element.
            guard !nesting.isEmpty else { return }
            let inObject = nesting.topIsObject
            let closing: UInt8 = inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            switch try peek() {
            case UInt8(ascii: ","):
                index += 1
                if try peek() == closing {
                    // A trailing comma.
                    index += 1
                    nesting.pop()
                    if nesting.isEmpty { return }
                    continue
                }
                if inObject { try skipMemberName() }
                expectValue = true
            case closing:
                index += 1
                nesting.pop()
                if nesting.isEmpty { return }
            default:
                throw error(inObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array")
            }
        }
    }

    /// Which open containers are objects, innermost last: 64 levels in a word, deeper ones in
    /// an array, so skipping the usual shallow values allocates nothing.
    struct ContainerStack {
        private var bits: UInt64 = 0
        private var deeper: [Bool] = []
        private(set) var count = 0

        var isEmpty: Bool { count == 0 }

        mutating func push(object: Bool) {
            if count < 64 {
                bits = object ? bits | (1 << UInt64(count)) : bits & ~(1 << UInt64(count))
            } else {
                deeper.append(object)
            }
            count += 1
        }

        mutating func pop() {
            count -= 1
            if count >= 64 { deeper.removeLast() }
        }

        var topIsObject: Bool {
            count > 64 ? deeper[count - 65] : bits & (1 << UInt64(count - 1)) != 0
        }
    }

    /// Skips a number nobody reads as Foundation's scanner does: a '-' or a digit, then every
    /// byte that may appear in a number, its grammar unchecked (`010`, `1.` and `2-1` pass
    /// there, so they pass here).
    private mutating func skipNumber() throws(JSONCursorError) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "-") || (bytes[index] >= 0x30 && bytes[index] <= 0x39) else {
            throw error("expected a value")
        }
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            guard (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") else { break }
            index += 1
        }
    }

    private mutating func skipMemberName() throws(JSONCursorError) {
        guard try peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
        try skipString()
        guard try peek() == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
        index += 1
    }

    /// Skips a string by its structure alone: a backslash takes the byte after it, the first
    /// other quote ends it. Its escapes and UTF-8 are checked only when it is read, as
    /// Foundation's decoder checks only the strings it decodes.
    private mutating func skipString() throws(JSONCursorError) {
        index += 1
        let start = index
        guard let base = bytes.baseAddress,
              let found = memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.count - index) else {
            index = bytes.count
            throw error("unterminated string")
        }
        // memchr finds the first quote a word at a time; without a backslash before it, it ends
        // the string (nearly every string skipped).
        let quote = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
        if memchr(base + start, Int32(UInt8(ascii: "\\")), quote - start) == nil {
            index = quote + 1
            return
        }
        try skipEscapedString()
    }

    /// Skips the rest of a string holding escapes, byte by byte, as Foundation's scanner does:
    /// the byte after a backslash is taken whatever it is, and the four after `\u` are taken as
    /// its digits unchecked — but a quote among them is an error, as it is there.
    private mutating func skipEscapedString() throws(JSONCursorError) {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { break }
                guard bytes[index + 1] == UInt8(ascii: "u") else {
                    index += 2
                    continue
                }
                guard index + 6 <= bytes.count else { break }
                if bytes[(index + 2)..<(index + 6)].contains(UInt8(ascii: "\"")) { throw error("a \\u escape needs four hex digits") }
                index += 6
                continue
            default:
                index += 1
                continue
            }
            break
        }
        index = bytes.count
        throw error("unterminated string")
    }
}
