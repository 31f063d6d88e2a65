/// Identifiers every cached pod carries once each — its uid, its containers' IDs — kept in the
/// fewest bytes their usual form allows, and given back exactly as read. A UUID is 36
/// characters and a container ID 77 (`containerd://` and 64 hex digits), so as strings they
/// cost a heap allocation each (80 and 112 bytes with the allocator's overhead); packed, they
/// live inline in the pod. Any other form is kept as the string itself, so nothing is lost.
/// Packing is canonical — only lowercase hex in the exact form is packed — so two values are
/// equal exactly when their texts are.

/// Text in a packed form when it has that form exactly, else the text itself.
public struct CompactText<Form: PackedTextForm>: Sendable, Hashable, CustomStringConvertible {
    private enum Storage: Sendable, Hashable {
        case packed(Form)
        case text(String)
    }

    private let storage: Storage

    public init(_ text: String) {
        var text = text
        storage = text.withUTF8 { Form(packing: $0) }.map(Storage.packed) ?? .text(text)
    }

    /// From UTF-8 bytes already validated (a JSON string's).
    init(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        storage = Form(packing: bytes).map(Storage.packed) ?? .text(String(decoding: bytes, as: UTF8.self))
    }

    /// Exactly the text it was made from.
    public var string: String {
        switch storage {
        case .packed(let form): return form.text
        case .text(let text): return text
        }
    }

    public var description: String { string }
}

/// A packed form of some texts: `init(packing:)` accepts exactly the texts `text` gives back.
public protocol PackedTextForm: Sendable, Hashable {
    init?(packing bytes: UnsafeBufferPointer<UInt8>)
    var text: String { get }
}

/// `metadata.uid`: a lowercase `8-4-4-4-12` UUID as 16 bytes, anything else as text.
public typealias CompactUID = CompactText<UUIDForm>

/// `status.containerStatuses[].containerID`: `<runtime>://<64 lowercase hex digits>` (the
/// SHA-256 ids containerd, CRI-O and Docker use) as the runtime and 32 bytes, anything else as text.
public typealias CompactContainerID = CompactText<ContainerIDForm>

public struct UUIDForm: PackedTextForm {
    let high: UInt64
    let low: UInt64

    public init?(packing bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 36, bytes[8] == UInt8(ascii: "-"), bytes[13] == UInt8(ascii: "-"), bytes[18] == UInt8(ascii: "-"), bytes[23] == UInt8(ascii: "-"),
              let first = HexWords.value(bytes, 0..<8), let second = HexWords.value(bytes, 9..<13), let third = HexWords.value(bytes, 14..<18),
              let fourth = HexWords.value(bytes, 19..<23), let fifth = HexWords.value(bytes, 24..<36) else { return nil }
        high = first << 32 | second << 16 | third
        low = fourth << 48 | fifth
    }

    public var text: String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (position, digit) in (HexWords.string(high) + HexWords.string(low)).utf8.enumerated() {
            if position == 8 || position == 12 || position == 16 || position == 20 { out.append(UInt8(ascii: "-")) }
            out.append(digit)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

public struct ContainerIDForm: PackedTextForm {
    /// At most 15 bytes, so Swift keeps it inline too.
    let runtime: String
    let digits: (UInt64, UInt64, UInt64, UInt64)

    public init?(packing bytes: UnsafeBufferPointer<UInt8>) {
        let separator = 3  // "://"
        guard bytes.count > 64 + separator, bytes.count - 64 - separator <= 15 else { return nil }
        let runtimeLength = bytes.count - 64 - separator
        let runtime = UnsafeBufferPointer(rebasing: bytes[..<runtimeLength])
        let start = runtimeLength + separator
        guard runtime.allSatisfy({ $0 >= 0x21 && $0 < 0x7F && $0 != UInt8(ascii: ":") }),
              bytes[runtimeLength] == UInt8(ascii: ":"), bytes[runtimeLength + 1] == UInt8(ascii: "/"), bytes[runtimeLength + 2] == UInt8(ascii: "/"),
              let base = bytes.baseAddress, let a = HexWords.word(base + start), let b = HexWords.word(base + start + 16),
              let c = HexWords.word(base + start + 32), let d = HexWords.word(base + start + 48) else { return nil }
        self.runtime = String(decoding: runtime, as: UTF8.self)
        digits = (a, b, c, d)
    }

    public var text: String {
        runtime + "://" + [digits.0, digits.1, digits.2, digits.3].map(HexWords.string).joined()
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.runtime == rhs.runtime && lhs.digits == rhs.digits
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(runtime)
        hasher.combine(digits.0)
        hasher.combine(digits.1)
        hasher.combine(digits.2)
        hasher.combine(digits.3)
    }
}

/// Lowercase hex digits packed into words, and back.
enum HexWords {
    /// The value of the lowercase hex digits at `range` (at most 16); nil if any byte is not one
    /// (uppercase too: it would not come back as written).
    @inline(__always)
    static func value(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64? {
        var value: UInt64 = 0
        for index in range {
            let digit = bytes[index]
            let nibble: UInt8
            if digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") {
                nibble = digit &- UInt8(ascii: "0")
            } else if digit >= UInt8(ascii: "a"), digit <= UInt8(ascii: "f") {
                nibble = digit &- UInt8(ascii: "a") &+ 10
            } else {
                return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    /// The value of the 16 lowercase hex digits at `digits`, eight at a time in a register (a
    /// pod's two container IDs are 128 digits: a byte loop was a sixteenth of decoding a pod).
    @inline(__always)
    static func word(_ digits: UnsafePointer<UInt8>) -> UInt64? {
        guard let high = eight(UnsafeRawPointer(digits).loadUnaligned(as: UInt64.self)),
              let low = eight(UnsafeRawPointer(digits + 8).loadUnaligned(as: UInt64.self)) else { return nil }
        return high << 32 | low
    }

    /// Eight lowercase hex digits loaded little-endian (the first in the lowest byte) as a
    /// 32-bit value, the first digit most significant; nil if any byte is not one.
    @inline(__always)
    static func eight(_ word: UInt64) -> UInt64? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        guard word & high == 0 else { return nil }
        // Every byte is below 0x80, so adding a constant below 0x80 never carries into the next
        // byte: the high bit of each sum says whether that byte reached the bound.
        func atLeast(_ bound: UInt64) -> UInt64 { (word &+ ones &* (0x80 - bound)) & high }
        let isDigit = atLeast(0x30) & ~atLeast(0x3A)
        let isLetter = atLeast(0x61) & ~atLeast(0x67)
        guard isDigit | isLetter == high else { return nil }
        // One nibble per byte: a digit's low four bits, a letter's plus 9.
        let nibbles = (word & (ones &* 0x0F)) &+ (isLetter >> 7) &* 9
        // Pairs, then quads, then the eight, earlier digits to the left.
        let pairs = ((nibbles & 0x000F_000F_000F_000F) << 4) | ((nibbles >> 8) & 0x000F_000F_000F_000F)
        let quads = ((pairs & 0x0000_00FF_0000_00FF) << 8) | ((pairs >> 16) & 0x0000_00FF_0000_00FF)
        return (quads & 0xFFFF) << 16 | (quads >> 32) & 0xFFFF
    }

    /// A word as 16 lowercase hex digits.
    static func string(_ word: UInt64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for shift in stride(from: 60, through: 0, by: -4) {
            let nibble = UInt8(truncatingIfNeeded: word >> UInt64(shift)) & 0xF
            out.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
