import BenchmarkSupport
import DataTree
import Flows
import Foundation
import KubeModel
import ConfigGen
import NetWatchAPI

/// Issue 8's decode benchmark: IPFIX messages as softflowd sends them (its 16-field IPv4
/// template: addresses, uptime-relative times, octets, packets, interfaces, direction, end
/// reason, ports, protocol, flags, IP version, ToS), 1,000,000 records among 10,000 workload
/// addresses with ephemeral client ports, decoded and aggregated into connections on one core.
/// Target: ≥ 1,000,000 records/s.


/// `NETWATCH_BENCH_PARTS=5` runs only part 5 (digits name the parts); default: all.
func part(_ number: Character) -> Bool {
    ProcessInfo.processInfo.environment["NETWATCH_BENCH_PARTS"].map { $0.contains(number) } ?? true
}

let recordLength = SoftflowdIPFIX.recordLength
let perMessage = 30
let totalRecords = 1_000_000
let workloads = 10_000

var generator = SystemRandomNumberGenerator()
func message(_ first: Int, withTemplate: Bool) -> [UInt8] {
    var data: [UInt8] = []
    for index in first..<(first + perMessage) {
        let client = UInt32(0x0A2A_0000) + UInt32(index % workloads)
        let server = UInt32(0x0A2A_0000) + UInt32((index * 7 + 13) % workloads)
        let forward = index % 2 == 0
        u32(forward ? client : server, &data); u32(forward ? server : client, &data)
        u32(100_000, &data); u32(100_500, &data); u32(1500, &data); u32(10, &data); u32(1, &data); u32(1, &data)
        data += [0, 2]
        let ephemeral = UInt16(32768 + (index / 2) % 28000), service = UInt16(8080 + index % 4)
        u16(forward ? ephemeral : service, &data); u16(forward ? service : ephemeral, &data)
        data += [6, forward ? 0x1B : 0x1B, 4, 0]
    }
    return SoftflowdIPFIX.message(sequence: UInt32(first), withTemplate: withTemplate, records: data)
}
let messages = stride(from: 0, to: totalRecords, by: perMessage).map { message($0, withTemplate: $0 % (perMessage * 100) == 0) }
_ = generator.next()

/// Decodes every message and folds its records into connections, as the collector does.
func decodeAndAggregate() -> (decoder: FlowExportDecoder, aggregator: ConnectionAggregator) {
    var decoder = FlowExportDecoder()
    var aggregator = ConnectionAggregator()
    var scratch: [FlowRecord] = []
    scratch.reserveCapacity(perMessage)
    for packet in messages {
        scratch.removeAll(keepingCapacity: true)
        decoder.decode(packet, exporter: "10.0.0.1:4739", receivedAt: 0, into: &scratch)
        for record in scratch { aggregator.add(record, source: "ipfix") }
    }
    return (decoder, aggregator)
}

if part("1") {
    var timings: [Double] = []
    var summary = ""
    for _ in 0..<5 {
        let started = ContinuousClock.now
        let (decoder, aggregator) = decodeAndAggregate()
        let connections = aggregator.connections
        let elapsed = ContinuousClock.now - started
        timings.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        summary = "\(decoder.statistics.records) records in \(decoder.statistics.packets) messages -> \(connections.count) connections"
    }
    let sorted = timings.sorted()
    print("IPFIX decode + aggregate: \(summary) (\(recordLength) bytes per record, softflowd's template)")
    print(String(format: "  wall s: min %.3f median %.3f max %.3f (5 runs); median %.0f records/s; target >= 1,000,000 records/s", sorted[0], sorted[2], sorted[4], Double(totalRecords) / sorted[2]))
    BenchmarkReport.record("IPFIX decode + aggregate", Double(totalRecords) / sorted[2], unit: "records/s", better: .higher, target: 1_000_000)
}

// 2. Records -> policies: the same 1,000,000 records, identities resolved against 10,000
//    workloads (a Deployment, its ReplicaSet and one pod each, in 100 namespaces), edges built,
//    one NetworkPolicy per workload. Target: <= 2 s and <= 1 GB.
var pods: [Pod] = []
var workloadObjects: [Workload] = []
for index in 0..<workloads {
    let namespace = "team-\(index % 100)", name = "svc-\(index)"
    var metadata = ObjectMeta(name: "\(name)-abc-\(index)", namespace: namespace, labels: ["app": name, "pod-template-hash": "abc"])
    metadata.ownerReferences = [OwnerReference(kind: "ReplicaSet", name: "\(name)-abc", controller: true)]
    metadata.creationTimestamp = "2026-01-01T00:00:00Z"
    let address = UInt32(0x0A2A_0000) + UInt32(index)
    let status = PodStatus(phase: "Running", podIP: IPAddress.v4(address).description)
    pods.append(Pod(metadata: metadata, spec: PodSpec(containers: [Container(name: "c", ports: [ContainerPort(name: "http", containerPort: 8080)])]), status: status))
    var replicaSet = ObjectMeta(name: "\(name)-abc", namespace: namespace)
    replicaSet.ownerReferences = [OwnerReference(kind: "Deployment", name: name, controller: true)]
    workloadObjects.append(Workload(kind: "ReplicaSet", metadata: replicaSet, template: PodTemplateSpec(metadata: ObjectMeta(name: ""), spec: PodSpec())))
    workloadObjects.append(Workload(kind: "Deployment", metadata: ObjectMeta(name: name, namespace: namespace),
                                    template: PodTemplateSpec(metadata: ObjectMeta(name: ""), spec: PodSpec()),
                                    document: ["spec": ["selector": ["matchLabels": ["app": .string(name)]]]]))
}
func residentPeakMB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
}
if part("2") {
    var policyTimings: [Double] = []
    var policyCount = 0
    for _ in 0..<3 {
        let started = ContinuousClock.now
        let connections = decodeAndAggregate().aggregator.connections
        let resolver = IdentityResolver(pods: pods, workloads: workloadObjects, services: [])
        let edges = EdgeBuilder(resolver: resolver, services: [], pods: pods).edges(connections)
        let selectors = PolicyGenerator.selectors(pods: pods, workloads: workloadObjects, resolver: resolver.workload(of:))
        let policies = PolicyGenerator(selectors: selectors).policies(edges)
        let elapsed = ContinuousClock.now - started
        policyTimings.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        policyCount = policies.count
    }
    let policySorted = policyTimings.sorted()
    print("records -> policies: \(totalRecords) records, \(workloads) workloads in 100 namespaces -> \(policyCount) NetworkPolicies")
    print(String(format: "  wall s: min %.3f median %.3f max %.3f (3 runs); peak resident %.0f MB (VmHWM, whole process); target <= 2 s and <= 1 GB", policySorted[0], policySorted[1], policySorted[2], residentPeakMB()))
    BenchmarkReport.record("records to policies median", policySorted[1], unit: "s", better: .lower, target: 2)
}

if part("3") || part("4") {
    // 3. Hubble: `hubble observe -o json` lines (envelope, endpoints with labels and workloads,
    //    TCP with flags) between the same workloads, decoded and merged. Reported as lines/s.
    let hubbleLines = 200_000
    var hubbleBytes: [UInt8] = []
    hubbleBytes.reserveCapacity(hubbleLines * 700)
    for index in 0..<hubbleLines {
        let client = index % workloads, server = (index * 7 + 13) % workloads
        func endpoint(_ workload: Int) -> String {
            #"{"ID":\#(workload),"identity":\#(workload + 10000),"namespace":"team-\#(workload % 100)","labels":["k8s:app=svc-\#(workload)","k8s:io.kubernetes.pod.namespace=team-\#(workload % 100)","k8s:io.cilium.k8s.policy.serviceaccount=default"],"pod_name":"svc-\#(workload)-abc-\#(workload)","workloads":[{"name":"svc-\#(workload)","kind":"Deployment"}]}"#
        }
        let line = #"{"flow":{"time":"2026-11-22T10:00:\#(String(format: "%02d", index % 60)).123456789Z","verdict":"FORWARDED","IP":{"source":"\#(IPAddress.v4(0x0A2A_0000 + UInt32(client)))","destination":"\#(IPAddress.v4(0x0A2A_0000 + UInt32(server)))","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":\#(32768 + index % 28000),"destination_port":\#(8080 + index % 4),"flags":{"SYN":true}}},"source":\#(endpoint(client)),"destination":\#(endpoint(server)),"Type":"L3_L4","node_name":"kind-worker","event_type":{"type":4},"traffic_direction":"EGRESS","trace_observation_point":"TO_ENDPOINT","is_reply":false,"Summary":"TCP Flags: SYN"},"node_name":"kind-worker","time":"2026-11-22T10:00:00.123456789Z"}"#
        hubbleBytes += Array(line.utf8)
        hubbleBytes.append(UInt8(ascii: "\n"))
    }
    var hubbleTimings: [Double] = []
    var hubbleSummary = ""
    for _ in 0..<3 {
        let started = ContinuousClock.now
        let decoded = HubbleFlows.decode(hubbleBytes)
        let elapsed = ContinuousClock.now - started
        hubbleTimings.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        hubbleSummary = "\(hubbleLines) lines (\(hubbleBytes.count / 1_048_576) MiB) -> \(decoded.connections.count) connections, \(decoded.problems.count) problems"
    }
    let hubbleSorted = hubbleTimings.sorted()
    print("Hubble decode + merge: \(hubbleSummary)")
    print(String(format: "  wall s: min %.3f median %.3f max %.3f (3 runs); median %.0f lines/s", hubbleSorted[0], hubbleSorted[1], hubbleSorted[2], Double(hubbleLines) / hubbleSorted[1]))
    BenchmarkReport.record("Hubble decode + merge", Double(hubbleLines) / hubbleSorted[1], unit: "lines/s", better: .higher)

    // 4. FlowPolicy plans: one audit-mode FlowPolicy per namespace (100) over the 10,000 workloads
    //    and the connections of part 1, first seen over a 2-hour observation so that some arrive
    //    after the workloads froze: subjects, phases, frozen policies, companions, default-denies
    //    and the evaluation of every late edge against the policies in force.
    let aggregator = decodeAndAggregate().aggregator
    let start = Timestamp.parse("2026-11-22T08:00:00Z")!
    let spread = aggregator.connections.enumerated().map { index, connection in
        var connection = connection
        connection.firstSeen = start + Int64(index % 7_200) * 1_000
        connection.lastSeen = start + 7_200_000
        return connection
    }
    var planSnapshot = Snapshot()
    planSnapshot.pods = pods
    planSnapshot.workloads = workloadObjects
    planSnapshot.observedConnections = spread
    let learning = FlowPolicySpec.Learning(window: try PrometheusDuration(parsing: "1h"), stabilization: try PrometheusDuration(parsing: "10m"))
    planSnapshot.flowPolicies = (0..<100).map { index in
        FlowPolicy(metadata: ObjectMeta(name: "learned", namespace: "team-\(index)"), spec: FlowPolicySpec(learning: learning, mode: .audit))
    }
    var planTimings: [Double] = []
    var planSummary = ""
    for _ in 0..<3 {
        let started = ContinuousClock.now
        let (plans, _) = FlowPolicyPlanner(snapshot: planSnapshot).plans()
        let elapsed = ContinuousClock.now - started
        planTimings.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        planSummary = "\(plans.count) FlowPolicies, \(plans.reduce(0) { $0 + $1.workloads.count }) workloads, \(plans.reduce(0) { $0 + $1.policies.count }) policies, "
            + "\(plans.filter { $0.defaultDeny != nil }.count) default-denies, \(plans.reduce(0) { $0 + $1.deniedWouldBe.count }) would-be-denied edges"
    }
    let planSorted = planTimings.sorted()
    print("FlowPolicy plans: \(planSummary)")
    print(String(format: "  wall s: min %.3f median %.3f max %.3f (3 runs); peak resident %.0f MB (VmHWM, whole process)", planSorted[0], planSorted[1], planSorted[2], residentPeakMB()))
    BenchmarkReport.record("FlowPolicy plans median", planSorted[1], unit: "s", better: .lower)
    BenchmarkReport.record("flows peak resident memory", residentPeakMB(), unit: "MB", better: .lower, target: 1024)
}

if part("5") {
    // 5. `netwatch policy check`: 1,000,000 distinct observed connections (each of the 10,000
    //    workloads' pods calls 100 others on 8080) judged against 10,000 NetworkPolicies — learned
    //    by PolicyGenerator from 99 % of the connections, so the other 1 % must be found denied
    //    both ways. Measured: the check itself (resolver, endpoints, compiled policies, every
    //    connection judged, edges grouped, the report sorted), connections and policies in memory;
    //    then reading the same connections from JSON lines, which the command does first.
    //    Target: <= 2 s.
    let checkStart = Timestamp.parse("2026-11-22T10:00:00Z")!
    let checkConnections: [ObservedConnection] = (0..<1_000_000).map { index in
        let client = index % workloads, server = (client + 1 + (index / workloads) * 97) % workloads
        return ObservedConnection(key: .init(client: .v4(0x0A2A_0000 + UInt32(client)), server: .v4(0x0A2A_0000 + UInt32(server)), serverPort: 8080, transport: .tcp),
                                  firstSeen: checkStart, lastSeen: checkStart + 60_000, flows: 2, source: "ipfix")
    }
    let checkResolver = IdentityResolver(pods: pods, workloads: workloadObjects, services: [])
    let learnedFrom = checkConnections.enumerated().filter { $0.offset % 100 != 0 }.map(\.element)
    let checkPolicies = PolicyGenerator(selectors: PolicyGenerator.selectors(pods: pods, workloads: workloadObjects, resolver: checkResolver.workload(of:)))
        .policies(EdgeBuilder(resolver: checkResolver, services: [], pods: pods).edges(learnedFrom))
    var checkTimings: [Double] = []
    var checkSummary = ""
    for _ in 0..<3 {
        let started = ContinuousClock.now
        let resolver = IdentityResolver(pods: pods, workloads: workloadObjects, services: [])
        let endpoints = WorkloadEndpoints(pods: pods, workloads: workloadObjects, namespaces: [], resolver: resolver)
        let evaluator = PolicyEvaluator(policies: checkPolicies)
        let report = PolicyCheck(evaluator: evaluator, resolver: resolver, pods: pods, services: [], endpoints: endpoints).run(checkConnections)
        let elapsed = ContinuousClock.now - started
        checkTimings.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        checkSummary = "\(report.connections) connections, \(checkPolicies.count) policies -> \(report.edges) edges, \(report.denied.count) denied "
            + "(\(report.denied.filter { $0.deniedBy.count == 2 }.count) both ways)"
    }
    let checkSorted = checkTimings.sorted()
    print("policy check: \(checkSummary)")
    print(String(format: "  wall s: min %.3f median %.3f max %.3f (3 runs); peak resident %.0f MB (VmHWM, whole process); target <= 2 s", checkSorted[0], checkSorted[1], checkSorted[2], residentPeakMB()))
    BenchmarkReport.record("policy check 1M connections x 10k policies median", checkSorted[1], unit: "s", better: .lower, target: 2)
    let checkLines = ConnectionLines.encode(checkConnections)
    let decodeStarted = ContinuousClock.now
    let decodedLines = ConnectionLines.decode(checkLines)
    let decodeElapsed = ContinuousClock.now - decodeStarted
    print(String(format: "  reading them from JSON lines first (%d MiB, %d connections): %.3f s", checkLines.count / 1_048_576, decodedLines.connections.count,
                 Double(decodeElapsed.components.seconds) + Double(decodeElapsed.components.attoseconds) / 1e18))

}