/// The escaped part of a JSON string, shared by the readers that build trees (`JSONReader`) and
/// projections (`JSONCursor`): from `index` (inside the string) to just past its closing quote,
/// escapes decoded (surrogate pairs combined, lone halves refused), control characters refused.
public enum JSONStringBody {
    /// A problem at `index` (which points at or just past the offending byte).
    public struct Problem: Error, Sendable {
        public var message: String
    }

    /// Appends the decoded bytes of the string's rest to `out`; `index` ends past the closing quote.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, index: inout Int, into out: inout [UInt8]) throws(Problem) {
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4(bytes, &index)
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw Problem(message: "a high surrogate \\u escape without its low half")
                        }
                        index += 2
                        let low = try hex4(bytes, &index)
                        guard (0xDC00...0xDFFF).contains(low) else { throw Problem(message: "a high surrogate \\u escape without its low half") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw Problem(message: "a low surrogate \\u escape without its high half")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw Problem(message: "an invalid \\u escape") }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw Problem(message: (0x21...0x7E).contains(escape) ? "an unknown escape \\\(Character(Unicode.Scalar(escape)))" : "an unknown escape (byte 0x\(String(escape, radix: 16)))")
                }
            default:
                if byte < 0x20 { throw Problem(message: "a control character inside a string; escape it") }
                out.append(byte)
                index += 1
            }
        }
        throw Problem(message: "the document ends inside a string")
    }

    /// Four hex digits of a `\u` escape.
    public static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) throws(Problem) -> UInt32 {
        guard index + 4 <= bytes.count else { throw Problem(message: "a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw Problem(message: "a \\u escape needs four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
