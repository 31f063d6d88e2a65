import Flows
import Testing

@Suite("Connections from flow records")
struct ConnectionTests {
    static func record(_ source: String, _ sourcePort: UInt16, _ destination: String, _ destinationPort: UInt16, flags: UInt8 = 0x1B, start: Int64 = 1000, proto: UInt8 = 6) -> FlowRecord {
        FlowRecord(source: IPAddress(source)!, destination: IPAddress(destination)!, sourcePort: sourcePort, destinationPort: destinationPort,
                   protocolNumber: proto, tcpFlags: flags, packets: 5, bytes: 500, start: start, end: start + 100)
    }

    @Test("both halves merge into one connection; the server is found by SYN, by a listening port, by who spoke first, by the lower port")
    func serverInference() {
        // SYN-only half: its source is the client, even on a low source port.
        var aggregator = ConnectionAggregator()
        aggregator.add(Self.record("10.0.0.1", 80, "10.0.0.2", 40000, flags: 0x02), source: "ipfix")
        aggregator.add(Self.record("10.0.0.2", 40000, "10.0.0.1", 80, flags: 0x12), source: "ipfix")
        #expect(aggregator.connections.map { "\($0.key.client)->\($0.key.server):\($0.key.serverPort) flows \($0.flows)" } == ["10.0.0.1->10.0.0.2:40000 flows 2"])

        // A listening port wins over the lower port.
        aggregator = ConnectionAggregator(isListening: { address, port in address == IPAddress("10.0.0.9") && port == 50051 })
        aggregator.add(Self.record("10.0.0.9", 50051, "10.0.0.3", 443), source: "ipfix")
        #expect(aggregator.connections.first?.key.server == IPAddress("10.0.0.9") && aggregator.connections.first?.key.serverPort == 50051)

        // Who spoke first (start times), whatever the order of arrival.
        aggregator = ConnectionAggregator()
        aggregator.add(Self.record("10.0.0.5", 5000, "10.0.0.4", 6000, start: 2000), source: "ipfix")
        aggregator.add(Self.record("10.0.0.4", 6000, "10.0.0.5", 5000, start: 1000), source: "ipfix")
        #expect(aggregator.connections.first?.key.client == IPAddress("10.0.0.4"))

        // Only one half, no hints: the lower port is the server's.
        aggregator = ConnectionAggregator()
        aggregator.add(Self.record("10.0.0.6", 8080, "10.0.0.7", 51234, proto: 17), source: "netflow9")
        #expect(aggregator.connections.first?.key == .init(client: IPAddress("10.0.0.7")!, server: IPAddress("10.0.0.6")!, serverPort: 8080, transport: .udp))
    }

    @Test("many conversations to one server port make one connection; ICMP is counted, not kept")
    func aggregation() {
        var aggregator = ConnectionAggregator()
        for port in UInt16(40000)..<40010 {
            aggregator.add(Self.record("10.0.0.1", port, "10.0.0.2", 8080, flags: 0x02, start: Int64(port)), source: "ipfix")
            aggregator.add(Self.record("10.0.0.2", 8080, "10.0.0.1", port, flags: 0x12, start: Int64(port)), source: "ipfix")
        }
        aggregator.add(Self.record("10.0.0.1", 0, "10.0.0.2", 0, proto: 1), source: "ipfix")
        let connections = aggregator.connections
        #expect(connections.count == 1)
        #expect(connections.first?.flows == 20 && connections.first?.packets == 100 && connections.first?.firstSeen == 40000)
        #expect(aggregator.skippedRecords == 1)
    }

    @Test("JSON lines round trip; a bad line is reported with its number and the others are read")
    func lines() {
        let connection = ObservedConnection(key: .init(client: IPAddress("10.42.0.7")!, server: IPAddress("fd00::9")!, serverPort: 8080, transport: .tcp),
                                            firstSeen: 1_795_860_000_123, lastSeen: 1_795_860_300_000, flows: 4, packets: 120, bytes: 18000, source: "ipfix")
        let bytes = ConnectionLines.encode([connection])
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"client":"10.42.0.7","server":"fd00::9","port":8080,"protocol":"TCP","firstSeen":"2026-11-28T10:00:00.123Z","lastSeen":"2026-11-28T10:05:00.000Z","flows":4,"packets":120,"bytes":18000,"source":"ipfix"}"# + "\n")
        let input = bytes + Array("\n{\"client\":\"10.0.0.1\",\"server\":\"nope\",\"port\":80,\"protocol\":\"TCP\",\"firstSeen\":\"2026-11-22T10:00:00Z\"}\n{bad\n".utf8)
            + Array(#"{"client":"10.0.0.1","server":"10.0.0.2","port":53,"protocol":"UDP","firstSeen":"2026-11-22T11:00:00+01:00"}"#.utf8)
        let (decoded, problems) = ConnectionLines.decode(input)
        #expect(decoded.first == connection)
        #expect(decoded.count == 2 && decoded.last?.firstSeen == 1_795_860_000_000 - 86_400_000 * 6)
        #expect(problems.map(\.line) == [3, 4])
        #expect(problems.first?.message.contains("server \"nope\"") == true)
    }

    @Test("timestamps: RFC 3339 in and out, fractions, offsets, and the epoch's neighbours")
    func timestamps() {
        #expect(Timestamp.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.parse("2000-02-29T00:00:00Z") == 951_782_400_000)
        #expect(Timestamp.parse("2000-02-29T00:00:00.5Z") == 951_782_400_500)
        #expect(Timestamp.parse("2000-02-29T00:00:00.123456789Z") == 951_782_400_123)
        #expect(Timestamp.parse("2000-02-29T01:00:00+01:00") == 951_782_400_000)
        for bad in ["", "2000-02-29", "2000-13-01T00:00:00Z", "2000-02-29T00:00:00", "2000-02-29T00:00:00.Z", "2000-02-29T00:00:00Zjunk"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
        for value in stride(from: Int64(-100_000_000_000), to: 4_000_000_000_000, by: 7_777_777_777) {
            #expect(Timestamp.parse(Timestamp.format(milliseconds: value)) == value)
        }
    }

    @Test("memory is bounded: ephemeral client ports are settled into one connection past maxConversations, new connections past maxConnections are counted, not kept")
    func bounded() {
        var aggregator = ConnectionAggregator(maxConversations: 100, maxConnections: 50)
        for port in 0..<10_000 {
            aggregator.add(Self.record("10.0.0.1", UInt16(20_000 + port), "10.0.0.2", 443, flags: 0x02, start: Int64(port)), source: "ipfix")
            #expect(aggregator.openConversations <= 100)
        }
        #expect(aggregator.connections.map { "\($0.key.client)->\($0.key.server):\($0.key.serverPort) flows \($0.flows)" } == ["10.0.0.1->10.0.0.2:443 flows 10000"])
        #expect(aggregator.settledConversations >= 9_900)
        #expect(aggregator.droppedRecords == 0)

        // 1,000 distinct clients: 49 more connections fit, the other 951 records are counted.
        for client in 0..<1_000 {
            aggregator.add(Self.record("10.1.\(client / 256).\(client % 256)", 50_000, "10.0.0.2", 443, flags: 0x02, start: 20_000 + Int64(client)), source: "ipfix")
        }
        let all = aggregator.connections
        #expect(all.count == 50)
        #expect(aggregator.droppedRecords + all.reduce(0) { $0 + $1.flows } >= 10_000 + 1_000 - 100)
        #expect(aggregator.openConversations <= 100)
    }

    @Test("idle conversations are settled into connections after idleTimeout of flow time, so short-lived ones do not accumulate")
    func idleSettled() {
        var aggregator = ConnectionAggregator(idleTimeout: 60_000)
        for port in 0..<20_000 {
            aggregator.add(Self.record("10.0.0.1", UInt16(10_000 + port % 50_000), "10.0.0.2", 80, flags: 0x02, start: Int64(port) * 10), source: "ipfix")
        }
        // 20,000 records 10 ms apart: only the last minute's conversations can still be open.
        #expect(aggregator.openConversations < 20_000 - 10_000)
        #expect(aggregator.connections.map(\.flows) == [20_000])
    }
}
