import Foundation

/// Finds the structure of a JSON document without building it: where a value ends, an
/// object's members, an array's elements.
///
/// For bytes a decoder refused (nested too deep, a value of the wrong type deep inside): enough
/// is still found to name the object and skip it. Guarantees: iterative, so any depth costs no
/// stack; linear in the bytes it passes; never traps; nil for anything it cannot frame.
struct JSONSkimmer {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func skipWhitespace(from index: Int) -> Int {
        var index = index
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index
    }

    /// The range of the value starting at `start` (after whitespace).
    func value(at start: Int) -> Range<Int>? {
        var index = skipWhitespace(from: start)
        guard index < bytes.count else { return nil }
        let first = index
        var depth = 0
        repeat {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let end = stringEnd(at: index) else { return nil }
                index = end
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                guard depth >= 0 else { return nil }
                index += 1
            default:
                if depth == 0 {
                    // A scalar: runs to the next delimiter.
                    while index < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
                    return index > first ? first..<index : nil
                }
                index += 1
            }
        } while depth > 0
        return first..<index
    }

    /// The index after the string that starts (with its quote) at `start`.
    func stringEnd(at start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return nil
    }

    /// The members of the object in `range`, keys decoded.
    func members(of range: Range<Int>) -> [(key: String, value: Range<Int>)]? {
        guard bytes[range.lowerBound] == UInt8(ascii: "{") else { return nil }
        var result: [(key: String, value: Range<Int>)] = []
        var index = skipWhitespace(from: range.lowerBound + 1)
        if index < range.upperBound, bytes[index] == UInt8(ascii: "}") { return result }
        while index < range.upperBound {
            guard bytes[index] == UInt8(ascii: "\""), let keyEnd = stringEnd(at: index), let key = string(in: index..<keyEnd) else { return nil }
            index = skipWhitespace(from: keyEnd)
            guard index < range.upperBound, bytes[index] == UInt8(ascii: ":"), let value = value(at: index + 1) else { return nil }
            result.append((key, value))
            index = skipWhitespace(from: value.upperBound)
            guard index < range.upperBound else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return result }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index = skipWhitespace(from: index + 1)
        }
        return nil
    }

    /// The elements of the array in `range`.
    func elements(of range: Range<Int>) -> [Range<Int>]? {
        guard bytes[range.lowerBound] == UInt8(ascii: "[") else { return nil }
        var result: [Range<Int>] = []
        var index = skipWhitespace(from: range.lowerBound + 1)
        if index < range.upperBound, bytes[index] == UInt8(ascii: "]") { return result }
        while index < range.upperBound {
            guard let element = value(at: index) else { return nil }
            result.append(element)
            index = skipWhitespace(from: element.upperBound)
            guard index < range.upperBound else { return nil }
            if bytes[index] == UInt8(ascii: "]") { return result }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
        return nil
    }

    /// The string in `range` (with its quotes), unescaped; nil if it is not a string.
    func string(in range: Range<Int>) -> String? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let inner = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return try? JSONDecoder().decode(String.self, from: Data(bytes[range]))
    }

    /// The string member `key` of the object in `range`.
    func stringMember(_ key: String, of range: Range<Int>) -> String? {
        members(of: range)?.first { $0.key == key }.flatMap { string(in: $0.value) }
    }
}
