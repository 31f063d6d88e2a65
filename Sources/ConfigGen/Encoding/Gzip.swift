/// A small, deterministic gzip (RFC 1952) compressor: LZ77 with hash chains and DEFLATE's fixed
/// Huffman codes, in pure Swift.
///
/// Why not zlib: output bytes must never depend on the machine or library version (unchanged
/// input must never look changed), and the generator stays free of C. The header carries no
/// name and a zero mtime. Fixed codes compress YAML and JSON about as well as needed here:
/// the point is staying under Kubernetes's 1 MiB object limit.
public enum Gzip {
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var writer = BitWriter()
        writer.bytes.reserveCapacity(input.count / 3 + 32)
        writer.bytes.append(contentsOf: [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF])
        writer.write(bits: 1, count: 1)  // BFINAL
        writer.write(bits: 1, count: 2)  // BTYPE = 01, fixed Huffman
        deflate(input, into: &writer)
        writer.writeFixedLiteral(256)
        writer.flush()
        let crc = CRC32.checksum(input)
        for shift in stride(from: 0, to: 32, by: 8) { writer.bytes.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        let size = UInt32(truncatingIfNeeded: input.count)
        for shift in stride(from: 0, to: 32, by: 8) { writer.bytes.append(UInt8(truncatingIfNeeded: size >> UInt32(shift))) }
        return writer.bytes
    }

    private static let windowSize = 32_768
    private static let maxChain = 48

    private static func deflate(_ input: [UInt8], into writer: inout BitWriter) {
        let count = input.count
        var head = [Int32](repeating: -1, count: 1 << 16)
        var previous = [Int32](repeating: -1, count: windowSize)
        func hash(_ index: Int) -> Int {
            (Int(input[index]) << 8 ^ Int(input[index + 1]) << 4 ^ Int(input[index + 2])) & 0xFFFF
        }
        func insert(_ index: Int) {
            guard index + 2 < count else { return }
            let key = hash(index)
            previous[index & (windowSize - 1)] = head[key]
            head[key] = Int32(index)
        }
        var index = 0
        while index < count {
            var bestLength = 0
            var bestDistance = 0
            if index + 2 < count {
                var candidate = Int(head[hash(index)])
                var chain = maxChain
                let limit = min(258, count - index)
                while candidate >= 0, index - candidate <= windowSize, chain > 0 {
                    if input[candidate + bestLength] == input[index + bestLength] || bestLength == 0 {
                        var length = 0
                        while length < limit, input[candidate + length] == input[index + length] { length += 1 }
                        if length > bestLength {
                            bestLength = length
                            bestDistance = index - candidate
                            if length == limit { break }
                        }
                    }
                    let next = Int(previous[candidate & (windowSize - 1)])
                    if next >= candidate { break }
                    candidate = next
                    chain -= 1
                }
            }
            if bestLength >= 3 {
                writer.writeLength(bestLength)
                writer.writeDistance(bestDistance)
                for offset in 0..<bestLength { insert(index + offset) }
                index += bestLength
            } else {
                writer.writeFixedLiteral(Int(input[index]))
                insert(index)
                index += 1
            }
        }
    }
}

/// DEFLATE's bit order: values LSB first, Huffman codes MSB first.
private struct BitWriter {
    var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var filled = 0

    mutating func write(bits: Int, count: Int) {
        buffer |= UInt64(bits) << UInt64(filled)
        filled += count
        while filled >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            filled -= 8
        }
    }

    mutating func writeCode(_ code: Int, length: Int) {
        var reversed = 0
        for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
        write(bits: reversed, count: length)
    }

    mutating func writeFixedLiteral(_ symbol: Int) {
        switch symbol {
        case 0...143: writeCode(0x30 + symbol, length: 8)
        case 144...255: writeCode(0x190 + symbol - 144, length: 9)
        case 256...279: writeCode(symbol - 256, length: 7)
        default: writeCode(0xC0 + symbol - 280, length: 8)
        }
    }

    private static let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBases = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    mutating func writeLength(_ length: Int) {
        var code = Self.lengthBases.count - 1
        while Self.lengthBases[code] > length { code -= 1 }
        writeFixedLiteral(257 + code)
        if Self.lengthExtra[code] > 0 { write(bits: length - Self.lengthBases[code], count: Self.lengthExtra[code]) }
    }

    mutating func writeDistance(_ distance: Int) {
        var code = Self.distanceBases.count - 1
        while Self.distanceBases[code] > distance { code -= 1 }
        writeCode(code, length: 5)
        if Self.distanceExtra[code] > 0 { write(bits: distance - Self.distanceBases[code], count: Self.distanceExtra[code]) }
    }

    mutating func flush() {
        if filled > 0 { write(bits: 0, count: 8 - filled) }
    }
}

/// CRC-32 (IEEE 802.3), as gzip's trailer needs.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { value in
        var crc = UInt32(value)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Standard base64 with padding, as Kubernetes `data`/`binaryData` fields carry bytes.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 2 < bytes.count {
            let value = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            out += [alphabet[value >> 18 & 63], alphabet[value >> 12 & 63], alphabet[value >> 6 & 63], alphabet[value & 63]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let value = Int(bytes[index]) << 16
            out += [alphabet[value >> 18 & 63], alphabet[value >> 12 & 63], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let value = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8
            out += [alphabet[value >> 18 & 63], alphabet[value >> 12 & 63], alphabet[value >> 6 & 63], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of standard base64 (padding optional, whitespace ignored); nil when the text is
    /// not base64.
    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): values.append(62)
            case UInt8(ascii: "/"): values.append(63)
            case UInt8(ascii: "="), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var value = 0
            for (offset, sextet) in chunk.enumerated() { value |= Int(sextet) << (18 - 6 * offset) }
            out.append(UInt8(value >> 16 & 0xFF))
            if chunk.count > 2 { out.append(UInt8(value >> 8 & 0xFF)) }
            if chunk.count > 3 { out.append(UInt8(value & 0xFF)) }
            index += 4
        }
        return out
    }
}
