/// One flow as an exporter reported it (one direction of a conversation).
public struct FlowRecord: Sendable, Hashable {
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// IANA protocol number: 6 TCP, 17 UDP, 132 SCTP, 1/58 ICMP.
    public var protocolNumber: UInt8
    /// TCP flags OR-ed over the flow (0 when not exported).
    public var tcpFlags: UInt8
    public var packets: UInt64
    public var bytes: UInt64
    /// Milliseconds since the Unix epoch.
    public var start: Int64
    public var end: Int64

    public init(source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16, protocolNumber: UInt8,
                tcpFlags: UInt8 = 0, packets: UInt64 = 0, bytes: UInt64 = 0, start: Int64 = 0, end: Int64 = 0) {
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.protocolNumber = protocolNumber
        self.tcpFlags = tcpFlags
        self.packets = packets
        self.bytes = bytes
        self.start = start
        self.end = end
    }
}

/// Decodes NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export packets into `FlowRecord`s.
///
/// Templates are kept per exporter, observation domain (v9: source ID) and template ID;
/// a template sent again replaces the old one, an IPFIX withdrawal (field count 0) removes it,
/// options templates are read and their data skipped. Data for a template not yet seen is
/// counted and dropped (exporters resend templates periodically).
///
/// Guarantees: never traps and never allocates in proportion to a length field that the packet
/// does not back; every problem is counted in `Statistics` and the rest of the packet is still
/// read where its framing allows; templates expire and are bounded per exporter and in all
/// (`TemplateCache`), so one exporter's flood never locks the others out.
public struct FlowExportDecoder: Sendable {
    public struct Statistics: Sendable, Hashable {
        public var packets = 0
        public var records = 0
        /// Packets whose header or set framing is broken (the rest of that packet is skipped).
        public var malformedPackets = 0
        /// Data records whose template is not known (yet).
        public var unknownTemplateRecords = 0
        /// Records without the fields a connection needs (addresses and protocol).
        public var incompleteRecords = 0
        public var templates = 0
        public var optionsTemplates = 0
        public var withdrawnTemplates = 0
        /// Data records whose template expired (not refreshed within its lifetime).
        public var expiredTemplateRecords = 0
        public init() {}
    }

    struct Field: Sendable, Hashable {
        var id: UInt16
        var enterprise: UInt32
        /// 65535: variable length (IPFIX).
        var length: UInt16
    }

    struct Template: Sendable, Hashable {
        var fields: [Field]
        var isOptions: Bool
    }

    public private(set) var statistics = Statistics()
    /// The kept templates, with what they refused, expired and evicted.
    public private(set) var templates: TemplateCache
    /// When the packet being decoded arrived (epoch milliseconds): templates expire by it.
    var now: Int64 = 0

    public init(limits: TemplateCache.Limits = .standard) {
        templates = TemplateCache(limits: limits)
    }

    /// Decodes one UDP payload from `exporter` (its address and port, e.g. "10.0.0.5:2055"),
    /// received at `receivedAt` (epoch milliseconds), appending the flows to `records`.
    public mutating func decode(_ packet: [UInt8], exporter: String, receivedAt: Int64, into records: inout [FlowRecord]) {
        now = receivedAt
        templates.heard(from: exporter, at: receivedAt)
        packet.withUnsafeBufferPointer { buffer in decode(ByteReader(buffer), exporter: exporter, into: &records) }
    }

    mutating func decode(_ packet: ByteReader, exporter: String, into records: inout [FlowRecord]) {
        statistics.packets += 1
        guard let version = packet.u16(at: 0) else { statistics.malformedPackets += 1; return }
        switch version {
        case 9:
            // count(2) uptime(4) unixSecs(4) sequence(4) sourceID(4)
            guard let uptime = packet.u32(at: 4), let seconds = packet.u32(at: 8), let domain = packet.u32(at: 16) else {
                statistics.malformedPackets += 1
                return
            }
            let export = Int64(seconds) * 1000
            let clock = Clock(exportMilliseconds: export, bootMilliseconds: export - Int64(uptime))
            readSets(packet, from: 20, end: packet.count, version: 9, exporter: exporter, domain: domain, clock: clock, into: &records)
        case 10:
            guard let length = packet.u16(at: 2), let seconds = packet.u32(at: 4), let domain = packet.u32(at: 12),
                  Int(length) >= 16, Int(length) <= packet.count else {
                statistics.malformedPackets += 1
                return
            }
            let clock = Clock(exportMilliseconds: Int64(seconds) * 1000, bootMilliseconds: templates.bootTime(exporter: exporter, domain: domain))
            readSets(packet, from: 16, end: Int(length), version: 10, exporter: exporter, domain: domain, clock: clock, into: &records)
        default:
            statistics.malformedPackets += 1
        }
    }

    /// Converts the exporter's times to epoch milliseconds.
    struct Clock {
        var exportMilliseconds: Int64
        /// When the exporter's uptime counter was 0 (v9: export time minus sysUptime; IPFIX:
        /// systemInitTimeMilliseconds from its options data); nil when unknown.
        var bootMilliseconds: Int64?

        /// An uptime-relative 32-bit time (FIRST/LAST_SWITCHED, flowStart/EndSysUpTime). The
        /// counter wraps every 49.7 days, and some exporters (softflowd reading a capture) send
        /// times before their boot as negative numbers: of the readings as unsigned, as signed
        /// and across one wrap, the one closest to the export time is taken.
        func fromUptime(_ raw: UInt64) -> Int64 {
            guard let boot = bootMilliseconds else { return exportMilliseconds }
            let value = UInt32(truncatingIfNeeded: raw)
            let candidates = [boot + Int64(value), boot + Int64(Int32(bitPattern: value)), boot + Int64(value) + (1 << 32)]
            return candidates.min { abs($0 - exportMilliseconds) < abs($1 - exportMilliseconds) } ?? exportMilliseconds
        }
    }

    struct DomainKey: Hashable, Sendable {
        var exporter: String
        var domain: UInt32
    }

    mutating func readSets(_ packet: ByteReader, from start: Int, end: Int, version: UInt16, exporter: String, domain: UInt32, clock: Clock, into records: inout [FlowRecord]) {
        var offset = start
        while offset + 4 <= end {
            guard let setID = packet.u16(at: offset), let setLength = packet.u16(at: offset + 2), setLength >= 4, offset + Int(setLength) <= end else {
                statistics.malformedPackets += 1
                return
            }
            let body = (offset + 4)..<(offset + Int(setLength))
            let templateSet: UInt16 = version == 9 ? 0 : 2
            let optionsSet: UInt16 = version == 9 ? 1 : 3
            switch setID {
            case templateSet: readTemplates(packet, body, version: version, exporter: exporter, domain: domain, options: false)
            case optionsSet: readTemplates(packet, body, version: version, exporter: exporter, domain: domain, options: true)
            case 256...:
                if let template = templates.template(exporter: exporter, domain: domain, id: setID, version: version, at: now) {
                    var current = clock
                    // An options record in this message may carry the boot time the data sets after it need.
                    if version == 10, current.bootMilliseconds == nil { current.bootMilliseconds = templates.bootTime(exporter: exporter, domain: domain) }
                    readData(packet, body, template: template, clock: current, domain: DomainKey(exporter: exporter, domain: domain), into: &records)
                } else if templates.hasExpired(exporter: exporter, domain: domain, id: setID, version: version) {
                    statistics.expiredTemplateRecords += 1
                } else {
                    statistics.unknownTemplateRecords += 1
                }
            default:
                break  // reserved set IDs are skipped
            }
            offset += Int(setLength)
        }
    }

    mutating func readTemplates(_ packet: ByteReader, _ body: Range<Int>, version: UInt16, exporter: String, domain: UInt32, options: Bool) {
        var offset = body.lowerBound
        while offset + 4 <= body.upperBound {
            guard let id = packet.u16(at: offset), let count = packet.u16(at: offset + 2) else { return }
            offset += 4
            if count == 0, version == 10 {
                // IPFIX withdrawal (RFC 7011 §8.1); ID 2/3 withdraws all of that kind.
                templates.withdraw(exporter: exporter, domain: domain, id: id, version: version)
                statistics.withdrawnTemplates += 1
                continue
            }
            guard id >= 256 else { statistics.malformedPackets += 1; return }
            var fieldCount = Int(count)
            if options {
                if version == 9 {
                    // v9: ID, scope length and option length in bytes (4 per field specifier).
                    guard let optionLength = packet.u16(at: offset) else { return }
                    fieldCount = (Int(count) + Int(optionLength)) / 4
                } else {
                    // IPFIX: ID, field count, scope field count (the scope fields come first).
                    guard packet.u16(at: offset) != nil else { return }
                }
                offset += 2
            }
            var fields: [Field] = []
            var valid = true
            for _ in 0..<fieldCount {
                guard let raw = packet.u16(at: offset), let length = packet.u16(at: offset + 2) else { valid = false; break }
                offset += 4
                var enterprise: UInt32 = 0
                if version == 10, raw & 0x8000 != 0 {
                    guard let number = packet.u32(at: offset) else { valid = false; break }
                    enterprise = number
                    offset += 4
                }
                if version == 9, length == 65535 { valid = false; break }
                fields.append(Field(id: raw & 0x7FFF, enterprise: enterprise, length: length))
                if fields.count > 1024 { valid = false; break }
            }
            guard valid, offset <= body.upperBound else { statistics.malformedPackets += 1; return }
            guard templates.store(Template(fields: fields, isOptions: options), exporter: exporter, domain: domain, id: id, version: version, at: now) else { continue }
            if options { statistics.optionsTemplates += 1 } else { statistics.templates += 1 }
        }
    }

    mutating func readData(_ packet: ByteReader, _ body: Range<Int>, template: Template, clock: Clock, domain: DomainKey, into records: inout [FlowRecord]) {
        let fixed = template.fields.allSatisfy { $0.length != 65535 }
        let minimum = template.fields.reduce(0) { $0 + ($1.length == 65535 ? 1 : Int($1.length)) }
        guard minimum > 0 else { return }
        var offset = body.lowerBound
        while offset + minimum <= body.upperBound {
            var record = Partial()
            for field in template.fields {
                var length = Int(field.length)
                if length == 65535 {
                    guard let first = packet.u8(at: offset) else { statistics.malformedPackets += 1; return }
                    offset += 1
                    if first == 255 {
                        guard let long = packet.u16(at: offset) else { statistics.malformedPackets += 1; return }
                        length = Int(long)
                        offset += 2
                    } else {
                        length = Int(first)
                    }
                }
                guard offset + length <= body.upperBound else {
                    if fixed { return }  // trailing padding
                    statistics.malformedPackets += 1
                    return
                }
                if field.enterprise == 0 {
                    if !template.isOptions {
                        record.set(field.id, packet, offset, length, clock: clock)
                    } else if field.id == 160 {
                        // systemInitTimeMilliseconds: what flowStart/EndSysUpTime are relative to.
                        templates.setBootTime(Int64(truncatingIfNeeded: packet.unsigned(at: offset, length: length)), exporter: domain.exporter, domain: domain.domain)
                    }
                }
                offset += length
            }
            if template.isOptions { continue }
            statistics.records += 1
            if let flow = record.flow(clock: clock) {
                records.append(flow)
            } else {
                statistics.incompleteRecords += 1
            }
        }
    }

    /// The fields of one record as they are read.
    struct Partial {
        var source: IPAddress?
        var destination: IPAddress?
        var sourcePort: UInt16 = 0
        var destinationPort: UInt16 = 0
        var protocolNumber: UInt8?
        var tcpFlags: UInt8 = 0
        var packets: UInt64 = 0
        var bytes: UInt64 = 0
        var start: Int64?
        var end: Int64?

        mutating func set(_ id: UInt16, _ packet: ByteReader, _ offset: Int, _ length: Int, clock: Clock) {
            switch id {
            case 8, 12, 27, 28:
                guard length == 4 || length == 16 else { return }
                let address = packet.address(at: offset, length: length)
                if id == 8 || id == 27 { source = address } else { destination = address }
            case 7: sourcePort = UInt16(truncatingIfNeeded: packet.unsigned(at: offset, length: length))
            case 11: destinationPort = UInt16(truncatingIfNeeded: packet.unsigned(at: offset, length: length))
            case 4: protocolNumber = UInt8(truncatingIfNeeded: packet.unsigned(at: offset, length: length))
            case 6: tcpFlags = UInt8(truncatingIfNeeded: packet.unsigned(at: offset, length: length))  // flags live in the low byte
            case 1, 85: bytes = packet.unsigned(at: offset, length: length)
            case 2, 86: packets = packet.unsigned(at: offset, length: length)
            case 22: start = clock.fromUptime(packet.unsigned(at: offset, length: length))
            case 21: end = clock.fromUptime(packet.unsigned(at: offset, length: length))
            case 150: start = Int64(truncatingIfNeeded: packet.unsigned(at: offset, length: length)) * 1000
            case 151: end = Int64(truncatingIfNeeded: packet.unsigned(at: offset, length: length)) * 1000
            case 152: start = Int64(truncatingIfNeeded: packet.unsigned(at: offset, length: length))
            case 153: end = Int64(truncatingIfNeeded: packet.unsigned(at: offset, length: length))
            default: break
            }
        }

        func flow(clock: Clock) -> FlowRecord? {
            guard let source, let destination, let protocolNumber else { return nil }
            let startTime = start ?? end ?? clock.exportMilliseconds
            return FlowRecord(source: source, destination: destination, sourcePort: sourcePort, destinationPort: destinationPort,
                              protocolNumber: protocolNumber, tcpFlags: tcpFlags, packets: packets, bytes: bytes,
                              start: startTime, end: end ?? startTime)
        }
    }
}

/// Bounds-checked big-endian reads from a packet.
struct ByteReader {
    let buffer: UnsafeBufferPointer<UInt8>
    init(_ buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }
    var count: Int { buffer.count }

    func u8(at offset: Int) -> UInt8? { offset >= 0 && offset < buffer.count ? buffer[offset] : nil }
    func u16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= buffer.count else { return nil }
        return UInt16(buffer[offset]) << 8 | UInt16(buffer[offset + 1])
    }
    func u32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= buffer.count else { return nil }
        return UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16 | UInt32(buffer[offset + 2]) << 8 | UInt32(buffer[offset + 3])
    }
    /// An unsigned integer of 1–8 bytes (reduced-size encoding, RFC 7011 §6.2); longer: its last 8 bytes.
    func unsigned(at offset: Int, length: Int) -> UInt64 {
        var value: UInt64 = 0
        let from = max(offset, offset + length - 8)
        for index in from..<(offset + length) where index < buffer.count { value = value << 8 | UInt64(buffer[index]) }
        return value
    }
    func address(at offset: Int, length: Int) -> IPAddress? {
        guard offset + length <= buffer.count else { return nil }
        return IPAddress(bytes: UnsafeBufferPointer(rebasing: buffer[offset..<(offset + length)]))
    }
}
