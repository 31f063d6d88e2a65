import BenchmarkSupport
import Flows
import Foundation
import Logging
import Operator

/// Issue 16's flow memory bound: the operator's `FlowCollector` (decoder, template cache and
/// aggregator, as a FlowPolicy IPFIX source runs them) receives 1,000,000 records of distinct
/// client tuples — 1,000,000 client addresses with ephemeral ports, towards 100 servers on
/// port 443 — in IPFIX messages of 30 records, generated one at a time so that the process's
/// memory is the collector's. Target: peak resident ≤ 150 MB. Reported: records/s, and how
/// many records were kept in connections and how many were counted as dropped at the
/// connection limit.

func u16(_ value: UInt16, _ out: inout [UInt8]) { out += [UInt8(value >> 8), UInt8(value & 0xFF)] }
func u32(_ value: UInt32, _ out: inout [UInt8]) { out += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

// softflowd's 16-field IPv4 template.
let fields: [(UInt16, UInt16)] = [(8, 4), (12, 4), (22, 4), (21, 4), (1, 4), (2, 4), (10, 4), (14, 4), (61, 1), (136, 1), (7, 2), (11, 2), (4, 1), (6, 1), (60, 1), (5, 1)]
let perMessage = 30
let totalRecords = 1_000_000

/// One message: records `first..<first + perMessage`, each a new client address and port.
func message(_ first: Int, into packet: inout [UInt8]) {
    var sets: [UInt8] = []
    if first % (perMessage * 100) == 0 {
        var template: [UInt8] = []
        u16(1024, &template); u16(UInt16(fields.count), &template)
        for (id, length) in fields { u16(id, &template); u16(length, &template) }
        u16(2, &sets); u16(UInt16(template.count + 4), &sets); sets += template
    }
    var data: [UInt8] = []
    for index in first..<(first + perMessage) {
        let client = UInt32(0x0B00_0000) + UInt32(index)  // 11.0.0.0 + index: a million clients
        let server = UInt32(0x0A2A_0000) + UInt32(index % 100)
        u32(client, &data); u32(server, &data)
        let uptime = UInt32(100_000 + index / 10)  // a second of traffic per 10,000 records
        u32(uptime, &data); u32(uptime + 50, &data); u32(600, &data); u32(6, &data); u32(1, &data); u32(1, &data)
        data += [0, 2]
        u16(UInt16(32768 + index % 28000), &data); u16(443, &data)
        data += [6, 0x02, 4, 0]
    }
    u16(1024, &sets); u16(UInt16(data.count + 4), &sets); sets += data
    packet.removeAll(keepingCapacity: true)
    u16(10, &packet); u16(UInt16(16 + sets.count), &packet); u32(1_800_000_000, &packet); u32(UInt32(first), &packet); u32(0, &packet)
    packet += sets
}

let before = residentMegabytes("VmRSS")
let collector = FlowCollector(logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
var packet: [UInt8] = []
let started = ContinuousClock.now
for first in stride(from: 0, to: totalRecords, by: perMessage) {
    message(first, into: &packet)
    collector.receive(packet, from: "127.0.0.1:40000", receivedAt: 1_800_000_000_000)
}
let collecting = residentMegabytes("VmHWM")
let (connections, counters) = collector.snapshot
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let kept = connections.reduce(0) { $0 + $1.flows }
print("FlowCollector, \(counters.decoder.records) records of distinct client tuples (1,000,000 clients x ephemeral ports -> 100 servers:443) in \(counters.decoder.packets) IPFIX messages")
print(String(format: "  %.2f s, %.0f records/s; %d records kept in %d connections, %d dropped at the connection limit (counted)", seconds, Double(counters.decoder.records) / seconds, kept, connections.count, counters.droppedRecords))
print(String(format: "  resident before %.0f MB; peak while collecting %.0f MB, after the connection list was built %.0f MB (VmHWM, whole process); target <= 150 MB", before, collecting, residentMegabytes("VmHWM")))
