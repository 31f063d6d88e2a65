/// Emits a `Node` as JSON, deterministically: mapping order is kept, numbers are printed the
/// same way on every platform, and the output always ends with a newline.
public struct JSONEmitter: Sendable {
    /// `pretty` indents by two spaces and puts one value per line; `compact` has no whitespace.
    public enum Style: Sendable {
        case pretty
        case compact
    }

    public var style: Style

    public init(style: Style = .pretty) {
        self.style = style
    }

    /// The document as UTF-8 bytes, ending with a newline.
    public func emit(_ node: Node) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(node, indent: 0, into: &out)
        out.append(0x0A)
        return out
    }

    /// The document as a string, ending with a newline.
    public func emitString(_ node: Node) -> String {
        String(decoding: emit(node), as: UTF8.self)
    }

    /// Appends one value (no trailing newline); for callers assembling larger documents.
    public func write(_ node: Node, indent: Int, into out: inout [UInt8]) {
        switch node {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value):
            out.append(contentsOf: String(value).utf8)
        case .double(let value):
            out.append(contentsOf: Self.format(value).utf8)
        case .string(let value):
            Self.writeString(value, into: &out)
        case .sequence(let elements):
            if elements.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1, into: &out)
                write(element, indent: indent + 1, into: &out)
            }
            newline(indent, into: &out)
            out.append(UInt8(ascii: "]"))
        case .mapping(let mapping):
            if mapping.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            for (index, entry) in mapping.entries.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1, into: &out)
                Self.writeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if style == .pretty { out.append(UInt8(ascii: " ")) }
                write(entry.value, indent: indent + 1, into: &out)
            }
            newline(indent, into: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    private func newline(_ indent: Int, into out: inout [UInt8]) {
        guard style == .pretty else { return }
        out.append(0x0A)
        for _ in 0..<indent { out.append(contentsOf: [0x20, 0x20]) }
    }

    /// Doubles print in Swift's shortest round-trip form; integral values keep no fraction
    /// ("2" rather than "2.0"), and non-finite values, which JSON cannot carry, become null.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return "\(value)"
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends `value` as a JSON string literal.
    public static func writeString(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (label names and values) need no escape: copy their bytes at once.
        var contiguous = value
        let copied = contiguous.withUTF8 { bytes in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
