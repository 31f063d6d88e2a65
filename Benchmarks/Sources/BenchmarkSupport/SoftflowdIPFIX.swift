/// IPFIX messages as softflowd sends them, for the flow benchmarks: its 16-field IPv4 template
/// (addresses, uptime-relative times, octets, packets, interfaces, direction, end reason,
/// ports, protocol, flags, IP version, ToS) with template ID 1024.
public enum SoftflowdIPFIX {
    public static let fields: [(id: UInt16, length: UInt16)] = [(8, 4), (12, 4), (22, 4), (21, 4), (1, 4), (2, 4), (10, 4), (14, 4), (61, 1), (136, 1), (7, 2), (11, 2), (4, 1), (6, 1), (60, 1), (5, 1)]
    public static let recordLength = fields.reduce(0) { $0 + Int($1.length) }

    /// A message with sequence number `sequence`, the template set first when `withTemplate`,
    /// then one data set of `records` (records encoded in the template's field order).
    public static func message(sequence: UInt32, withTemplate: Bool, records: [UInt8]) -> [UInt8] {
        var sets: [UInt8] = []
        if withTemplate {
            var template: [UInt8] = []
            u16(1024, &template); u16(UInt16(fields.count), &template)
            for (id, length) in fields { u16(id, &template); u16(length, &template) }
            u16(2, &sets); u16(UInt16(template.count + 4), &sets); sets += template
        }
        u16(1024, &sets); u16(UInt16(records.count + 4), &sets); sets += records
        var packet: [UInt8] = []
        u16(10, &packet); u16(UInt16(16 + sets.count), &packet); u32(1_800_000_000, &packet); u32(sequence, &packet); u32(0, &packet)
        return packet + sets
    }
}

/// Appends `value` in network byte order.
public func u16(_ value: UInt16, _ out: inout [UInt8]) { out += [UInt8(value >> 8), UInt8(value & 0xFF)] }
public func u32(_ value: UInt32, _ out: inout [UInt8]) { out += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
