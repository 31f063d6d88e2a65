import Flows
import KubeTesting
import Testing

/// Builds NetFlow v9 / IPFIX packets for tests, big-endian.
struct PacketBuilder {
    var bytes: [UInt8] = []
    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    mutating func u32(_ value: UInt32) { bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
    mutating func u64(_ value: UInt64) { u32(UInt32(value >> 32)); u32(UInt32(value & 0xFFFF_FFFF)) }
    mutating func set(_ id: UInt16, _ body: (inout PacketBuilder) -> Void) {
        var inner = PacketBuilder()
        body(&inner)
        u16(id)
        u16(UInt16(inner.bytes.count + 4))
        bytes += inner.bytes
    }

    /// An IPFIX message around `sets`, with its length filled in.
    static func ipfix(exportTime: UInt32 = 1_800_000_000, domain: UInt32 = 1, _ sets: (inout PacketBuilder) -> Void) -> [UInt8] {
        var body = PacketBuilder()
        sets(&body)
        var packet = PacketBuilder()
        packet.u16(10); packet.u16(UInt16(16 + body.bytes.count)); packet.u32(exportTime); packet.u32(1); packet.u32(domain)
        return packet.bytes + body.bytes
    }

    static func netflow9(uptime: UInt32, seconds: UInt32, sourceID: UInt32 = 0, count: UInt16, _ sets: (inout PacketBuilder) -> Void) -> [UInt8] {
        var packet = PacketBuilder()
        packet.u16(9); packet.u16(count); packet.u32(uptime); packet.u32(seconds); packet.u32(7); packet.u32(sourceID)
        sets(&packet)
        return packet.bytes
    }
}

/// IPFIX template 256: v4 addresses, ports, protocol, flags, packets, bytes, start/end ms.
func ipv4Template(_ set: inout PacketBuilder, id: UInt16 = 256) {
    set.u16(id); set.u16(10)
    for (field, length) in [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 8), (1, 8), (152, 8), (153, 8)] as [(UInt16, UInt16)] {
        set.u16(field); set.u16(length)
    }
}

func ipv4Record(_ set: inout PacketBuilder, source: UInt32, destination: UInt32, sourcePort: UInt16, destinationPort: UInt16, flags: UInt8 = 0x02) {
    set.u32(source); set.u32(destination); set.u16(sourcePort); set.u16(destinationPort); set.u8(6); set.u8(flags)
    set.u64(10); set.u64(1500); set.u64(1_800_000_000_000); set.u64(1_800_000_001_500)
}

@Suite("IPFIX and NetFlow v9 decoding")
struct FlowExportDecoderTests {
    @Test("IPFIX: a template and its data in one message; fields, times and flags as sent")
    func ipfix() {
        let packet = PacketBuilder.ipfix { sets in
            sets.set(2) { ipv4Template(&$0) }
            sets.set(256) {
                ipv4Record(&$0, source: 0x7F00_0001, destination: 0x7F00_0002, sourcePort: 40000, destinationPort: 8080)
                ipv4Record(&$0, source: 0x7F00_0002, destination: 0x7F00_0001, sourcePort: 8080, destinationPort: 40000, flags: 0x12)
            }
        }
        var decoder = FlowExportDecoder()
        var records: [FlowRecord] = []
        decoder.decode(packet, exporter: "127.0.0.1:1", receivedAt: 0, into: &records)
        #expect(records.count == 2)
        #expect(records.first == FlowRecord(source: IPAddress("127.0.0.1")!, destination: IPAddress("127.0.0.2")!, sourcePort: 40000, destinationPort: 8080,
                                            protocolNumber: 6, tcpFlags: 0x02, packets: 10, bytes: 1500, start: 1_800_000_000_000, end: 1_800_000_001_500))
        #expect(records.last?.tcpFlags == 0x12)
        #expect(decoder.statistics.templates == 1 && decoder.statistics.records == 2 && decoder.statistics.malformedPackets == 0)
    }

    @Test("NetFlow v9: FIRST/LAST_SWITCHED are uptime-relative and become epoch milliseconds; IPv6 addresses; options data skipped")
    func netflow9() {
        let packet = PacketBuilder.netflow9(uptime: 100_000, seconds: 1_800_000_000, count: 4) { sets in
            sets.set(0) { t in
                t.u16(300); t.u16(8)
                for (field, length) in [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (22, 4), (21, 4), (2, 4)] as [(UInt16, UInt16)] { t.u16(field); t.u16(length) }
            }
            sets.set(1) { o in o.u16(301); o.u16(4); o.u16(4); o.u16(1); o.u16(4); o.u16(34); o.u16(4); o.u16(0) }  // scope system, sampling interval, padding
            sets.set(301) { d in d.u32(0); d.u32(1) }
            sets.set(300) { d in
                d.u64(0xFD00_0000_0000_0000); d.u64(1)
                d.u64(0xFD00_0000_0000_0000); d.u64(2)
                d.u16(50000); d.u16(443); d.u8(6); d.u32(95_000); d.u32(99_000); d.u32(3)
                d.u8(0); d.u8(0)  // padding
            }
        }
        var decoder = FlowExportDecoder()
        var records: [FlowRecord] = []
        decoder.decode(packet, exporter: "[fd00::9]:9995", receivedAt: 0, into: &records)
        #expect(records.count == 1, "\(decoder.statistics)")
        #expect(records.first?.source.description == "fd00::1" && records.first?.destination.description == "fd00::2")
        let exported: Int64 = 1_800_000_000_000, uptime: Int64 = 100_000
        #expect(records.first.map { $0.start == exported - uptime + 95_000 } == true)
        #expect(records.first.map { $0.end == exported - uptime + 99_000 } == true)
        #expect(decoder.statistics.optionsTemplates == 1)
    }

    @Test("templates are per exporter and domain; data before its template is counted and dropped; withdrawal removes a template")
    func templateLifecycle() {
        var decoder = FlowExportDecoder()
        var records: [FlowRecord] = []
        let data = PacketBuilder.ipfix { $0.set(256) { ipv4Record(&$0, source: 1, destination: 2, sourcePort: 3, destinationPort: 4) } }
        decoder.decode(data, exporter: "a", receivedAt: 0, into: &records)
        #expect(records.isEmpty && decoder.statistics.unknownTemplateRecords == 1)
        decoder.decode(PacketBuilder.ipfix { $0.set(2) { ipv4Template(&$0) } }, exporter: "a", receivedAt: 0, into: &records)
        decoder.decode(data, exporter: "b", receivedAt: 0, into: &records)  // another exporter: template unknown there
        decoder.decode(PacketBuilder.ipfix(domain: 2) { $0.set(256) { ipv4Record(&$0, source: 1, destination: 2, sourcePort: 3, destinationPort: 4) } }, exporter: "a", receivedAt: 0, into: &records)
        #expect(records.isEmpty && decoder.statistics.unknownTemplateRecords == 3)
        decoder.decode(data, exporter: "a", receivedAt: 0, into: &records)
        #expect(records.count == 1)
        decoder.decode(PacketBuilder.ipfix { $0.set(2) { t in t.u16(256); t.u16(0) } }, exporter: "a", receivedAt: 0, into: &records)
        decoder.decode(data, exporter: "a", receivedAt: 0, into: &records)
        #expect(records.count == 1 && decoder.statistics.withdrawnTemplates == 1 && decoder.statistics.unknownTemplateRecords == 4)
    }

    @Test("a template flood from one socket locks out no other exporter: its own templates past 256 are refused and counted")
    func templateFlood() {
        var decoder = FlowExportDecoder()
        var records: [FlowRecord] = []
        for packet in 0..<250 {
            let flood = PacketBuilder.ipfix { sets in
                sets.set(2) { set in for template in 0..<16 { ipv4Template(&set, id: UInt16(256 + packet * 16 + template)) } }
            }
            decoder.decode(flood, exporter: "127.0.0.1:40000", receivedAt: Int64(packet), into: &records)
        }
        #expect(decoder.templates.counters.refusedTemplates == 250 * 16 - 256)
        for exporter in 1...5 {
            let packet = PacketBuilder.ipfix { sets in
                sets.set(2) { ipv4Template(&$0) }
                sets.set(256) { ipv4Record(&$0, source: UInt32(exporter), destination: 2, sourcePort: 3, destinationPort: 4) }
            }
            decoder.decode(packet, exporter: "127.0.0.1:\(41000 + exporter)", receivedAt: 1_000, into: &records)
        }
        #expect(records.count == 5)
        #expect(decoder.statistics.unknownTemplateRecords == 0)
    }

    @Test("templates expire when not refreshed within their lifetime; the least recently heard exporter is evicted past the exporter limit")
    func templateExpiryAndEviction() {
        let limits = TemplateCache.Limits(exporters: 3, templatesPerExporter: 4, fieldsPerExporter: 100, fields: 1_000, templateLifetime: 60_000)
        var decoder = FlowExportDecoder(limits: limits)
        var records: [FlowRecord] = []
        let template = PacketBuilder.ipfix { $0.set(2) { ipv4Template(&$0) } }
        let data = PacketBuilder.ipfix { $0.set(256) { ipv4Record(&$0, source: 1, destination: 2, sourcePort: 3, destinationPort: 4) } }
        decoder.decode(template, exporter: "a", receivedAt: 0, into: &records)
        decoder.decode(data, exporter: "a", receivedAt: 59_000, into: &records)
        #expect(records.count == 1)
        decoder.decode(data, exporter: "a", receivedAt: 61_000, into: &records)
        #expect(records.count == 1 && decoder.statistics.expiredTemplateRecords == 1)
        decoder.decode(template, exporter: "a", receivedAt: 62_000, into: &records)  // refreshed
        decoder.decode(data, exporter: "a", receivedAt: 63_000, into: &records)
        #expect(records.count == 2)
        // Sweeping forgets expired templates and silent sessions: memory goes back down.
        decoder.decode(data, exporter: "b", receivedAt: 62_000 + 2 * 60_000 + 1, into: &records)
        #expect(decoder.templates.templateCount == 0 && decoder.templates.exporterCount == 0)
        #expect(decoder.templates.counters.expiredTemplates == 2)

        for (index, exporter) in ["a", "b", "c", "d"].enumerated() {
            decoder.decode(template, exporter: exporter, receivedAt: 200_000 + Int64(index), into: &records)
        }
        #expect(decoder.templates.exporterCount == 3 && decoder.templates.counters.evictedExporters == 1)
        decoder.decode(data, exporter: "a", receivedAt: 200_010, into: &records)  // "a" was heard from longest ago
        decoder.decode(data, exporter: "d", receivedAt: 200_010, into: &records)
        #expect(records.count == 3)
    }

    @Test("IPFIX variable-length and enterprise fields are skipped correctly")
    func variableLength() {
        let packet = PacketBuilder.ipfix { sets in
            sets.set(2) { t in
                t.u16(400); t.u16(5)
                t.u16(8); t.u16(4); t.u16(0x8000 | 100); t.u16(65535); t.u32(29305); t.u16(12); t.u16(4); t.u16(4); t.u16(1); t.u16(82); t.u16(65535)
            }
            sets.set(400) { d in
                d.u32(0x0A00_0001); d.u8(3); d.bytes += [1, 2, 3]; d.u32(0x0A00_0002); d.u8(17)
                d.u8(255); d.u16(5); d.bytes += Array("eth0!".utf8)
            }
        }
        var decoder = FlowExportDecoder()
        var records: [FlowRecord] = []
        decoder.decode(packet, exporter: "x", receivedAt: 0, into: &records)
        #expect(records.count == 1)
        #expect(records.first?.destination.description == "10.0.0.2" && records.first?.protocolNumber == 17)
    }

    @Test("fuzz: truncated packets, lying lengths and random bytes never trap; templates stay bounded")
    func fuzz() {
        var generator = SplitMix(seed: 42)
        func next() -> UInt64 { generator.next() }
        let valid = PacketBuilder.ipfix { sets in
            sets.set(2) { ipv4Template(&$0) }
            sets.set(256) { ipv4Record(&$0, source: 1, destination: 2, sourcePort: 3, destinationPort: 4) }
        }
        var decoder = FlowExportDecoder(limits: TemplateCache.Limits(exporters: 4, templatesPerExporter: 8, fieldsPerExporter: 64, fields: 128, templateLifetime: 1_000))
        var records: [FlowRecord] = []
        for round in 0..<20_000 {
            var bytes = valid
            switch round % 4 {
            case 0: bytes = Array(bytes.prefix(Int(next() % UInt64(bytes.count))))
            case 1: for _ in 0..<(1 + next() % 6) { bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next()) }
            case 2:  // lying lengths: huge field counts, set lengths, variable lengths
                let position = [2, 18, 22, 24, 26][Int(next() % 5)]
                if position + 1 < bytes.count { bytes[position] = 0xFF; bytes[position + 1] = UInt8(truncatingIfNeeded: next()) }
            default: bytes = [0, 10] + (0..<Int(next() % 200)).map { _ in UInt8(truncatingIfNeeded: next()) }
            }
            decoder.decode(bytes, exporter: "fuzz-\(round % 7)", receivedAt: Int64(round), into: &records)
            if records.count > 10_000 { records.removeAll() }
            #expect(decoder.templates.exporterCount <= 4 && decoder.templates.templateCount <= 4 * 8)
        }
        #expect(decoder.statistics.packets == 20_000)
        #expect(decoder.statistics.malformedPackets > 0)
        #expect(decoder.statistics.records > 0)
    }
}

@Suite("IP addresses")
struct IPAddressTests {
    @Test("parse and print IPv4 and IPv6 (RFC 5952), masks, order")
    func roundTrip() {
        for text in ["0.0.0.0", "10.42.0.23", "255.255.255.255", "::", "::1", "fd00::1", "2001:db8::2:1", "2001:db8:0:1:1:1:1:1", "2001:0:0:1::1", "fe80::1:0:0:1"] {
            #expect(IPAddress(text)?.description == text, "\(text)")
        }
        #expect(IPAddress("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        for bad in ["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "a.b.c.d", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        #expect(IPAddress("203.0.113.77")!.masked(to: 24).description == "203.0.113.0")
        #expect(IPAddress("2001:db8::77")!.masked(to: 64).description == "2001:db8::")
        #expect(IPAddress("10.0.0.1")! < IPAddress("10.0.0.2")! && IPAddress("255.0.0.0")! < IPAddress("::")!)
    }
}
