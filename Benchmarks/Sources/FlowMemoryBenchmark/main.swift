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

let perMessage = 30
let totalRecords = 1_000_000

/// One message in softflowd's template: records `first..<first + perMessage`, each a new
/// client address and port.
func message(_ first: Int) -> [UInt8] {
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
    return SoftflowdIPFIX.message(sequence: UInt32(first), withTemplate: first % (perMessage * 100) == 0, records: data)
}

let before = residentMegabytes("VmRSS")
let collector = FlowCollector(logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
let started = ContinuousClock.now
for first in stride(from: 0, to: totalRecords, by: perMessage) {
    collector.receive(message(first), from: "127.0.0.1:40000", receivedAt: 1_800_000_000_000)
}
let collecting = residentMegabytes("VmHWM")
let (connections, counters) = collector.snapshot
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let kept = connections.reduce(0) { $0 + $1.flows }
print("FlowCollector, \(counters.decoder.records) records of distinct client tuples (1,000,000 clients x ephemeral ports -> 100 servers:443) in \(counters.decoder.packets) IPFIX messages")
print(String(format: "  %.2f s, %.0f records/s; %d records kept in %d connections, %d dropped at the connection limit (counted)", seconds, Double(counters.decoder.records) / seconds, kept, connections.count, counters.droppedRecords))
print(String(format: "  resident before %.0f MB; peak while collecting %.0f MB, after the connection list was built %.0f MB (VmHWM, whole process); target <= 150 MB", before, collecting, residentMegabytes("VmHWM")))
BenchmarkReport.record("collector peak resident memory", residentMegabytes("VmHWM"), unit: "MB", better: .lower, target: 150)
BenchmarkReport.record("collector records", Double(counters.decoder.records) / seconds, unit: "records/s", better: .higher)

// The live service graph's exposition (issue 20): 50 FlowPolicies of 20 workloads, each with
// 200 flow edges (the per-FlowPolicy bound, so none is aggregated): 10,000 series, 100 of them
// marked would-deny; the time to update the series from a reconcile's edges and to write the
// operator's /metrics. Target: <= 50 ms per scrape.
let operatorMetrics = OperatorMetrics()
let edgeWorkloads = (0..<1_000).map { WorkloadReference(namespace: "team-\($0 / 20)", kind: "Deployment", name: "svc-\($0)") }
var graphEdges: [ResolvedEdge] = []
var scopes: [FlowEdgeMetric.Scope] = []
for policy in 0..<50 {
    let mine = (0..<200).map { index in
        ResolvedEdge(client: .workload(edgeWorkloads[policy * 20 + index % 20]), server: .workload(edgeWorkloads[policy * 20 + (index / 20 + index + 1) % 20]),
                     port: .int(8080 + index / 20), transport: .tcp, flows: 1 + index)
    }
    graphEdges += mine
    scopes.append(FlowEdgeMetric.Scope(namespace: "team-\(policy)", workloads: Set(edgeWorkloads[(policy * 20)..<(policy * 20 + 20)]), wouldDeny: Array(mine.prefix(2))))
}
var updateTimes: [Double] = [], scrapeTimes: [Double] = []
var scrapeBytes = 0
for round in 0..<20 {
    var grown = graphEdges
    for index in grown.indices { grown[index].flows += round }
    let updateStarted = ContinuousClock.now
    operatorMetrics.flowEdges.update(grown, scopes: scopes)
    updateTimes.append(milliseconds(ContinuousClock.now - updateStarted))
    let scrapeStarted = ContinuousClock.now
    scrapeBytes = operatorMetrics.exposition.utf8.count
    scrapeTimes.append(milliseconds(ContinuousClock.now - scrapeStarted))
}
updateTimes.sort()
scrapeTimes.sort()
let seriesCount = operatorMetrics.exposition.split(separator: "\n").filter { $0.hasPrefix("netwatch_flow_edge_") }.count
print("flow edge metrics: \(graphEdges.count) edges in 50 FlowPolicies -> \(seriesCount) series (connections + would-deny), \(scrapeBytes / 1024) KiB per scrape")
print(String(format: "  update ms: median %.1f max %.1f; scrape ms: median %.1f max %.1f (20 rounds); target <= 50 ms per scrape",
             updateTimes[10], updateTimes[19], scrapeTimes[10], scrapeTimes[19]))
BenchmarkReport.record("flow edge metrics scrape (10,000 edges) median", scrapeTimes[10], unit: "ms", better: .lower, target: 50)
