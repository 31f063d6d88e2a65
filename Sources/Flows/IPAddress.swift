/// An IPv4 or IPv6 address as a value: compact, hashable, ordered, printed in the usual forms
/// (dotted quad; RFC 5952 for IPv6, the longest run of zero groups as `::`).
public enum IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    /// Parses `10.0.0.1` or an IPv6 literal (`fd00::1`, `::ffff:10.0.0.1` not needed here); nil otherwise.
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let value = Self.parseV6(String(text)) else { return nil }
            self = value
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var value: UInt32 = 0
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt32(part), octet <= 255 else { return nil }
                value = value << 8 | octet
            }
            self = .v4(value)
        }
    }

    private static func parseV6(_ text: String) -> IPAddress? {
        // Split at "::" (at most once) without Foundation.
        let characters = Array(text)
        var halves: [String] = []
        var start = 0, index = 0
        while index < characters.count {
            if index + 1 < characters.count, characters[index] == ":", characters[index + 1] == ":" {
                halves.append(String(characters[start..<index]))
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        halves.append(String(characters[start...]))
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for piece in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                out.append(value)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        let high = all[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = all[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return .v6(high, low)
    }

    /// From 4 or 16 network-order bytes; nil for other lengths.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        case 16:
            let array = Array(bytes)
            self = .v6(array[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, array[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        default: return nil
        }
    }

    public var isIPv4: Bool { if case .v4 = self { true } else { false } }

    /// The address's prefix length for a single host: 32 or 128.
    public var hostPrefixLength: Int { isIPv4 ? 32 : 128 }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6(let high, let low):
            let groups = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) } + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
            // RFC 5952: the longest run (≥ 2) of zero groups, the first on ties, becomes "::".
            var best = (start: -1, length: 0), current = (start: -1, length: 0)
            for (index, group) in groups.enumerated() {
                if group == 0 {
                    current = current.start < 0 ? (index, 1) : (current.start, current.length + 1)
                    if current.length > best.length { best = current }
                } else {
                    current = (-1, 0)
                }
            }
            func hex(_ slice: ArraySlice<UInt16>) -> String { slice.map { String($0, radix: 16) }.joined(separator: ":") }
            guard best.length >= 2 else { return hex(groups[...]) }
            return hex(groups[..<best.start]) + "::" + hex(groups[(best.start + best.length)...])
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        case (.v6(let a1, let a2), .v6(let b1, let b2)): (a1, a2) < (b1, b2)
        }
    }

    /// The network of `prefixLength` bits containing this address (for grouping to /24).
    public func masked(to prefixLength: Int) -> IPAddress {
        switch self {
        case .v4(let value):
            let bits = max(0, min(32, prefixLength))
            return .v4(bits == 0 ? 0 : value & ~UInt32(0) << (32 - bits))
        case .v6(let high, let low):
            let bits = max(0, min(128, prefixLength))
            let highMask: UInt64 = bits >= 64 ? ~0 : (bits == 0 ? 0 : ~UInt64(0) << (64 - bits))
            let lowMask: UInt64 = bits <= 64 ? 0 : (bits == 128 ? ~0 : ~UInt64(0) << (128 - bits))
            return .v6(high & highMask, low & lowMask)
        }
    }
}
