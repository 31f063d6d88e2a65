import DataTree
import Flows
import Foundation
import KubeModel
import KubeTesting
import Testing

@Suite("Hubble flow records")
struct HubbleFlowsTests {
    static let fixture: [UInt8] = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hubble-observe.jsonl")
        return [UInt8](FileManager.default.contents(atPath: file.path) ?? Data())
    }()

    @Test("real hubble observe -o json records: initiations kept with what Hubble said each end was; replies, L7 and explicit denies skipped")
    func realRecords() throws {
        #expect(HubbleFlows.looksLikeHubble(Self.fixture))
        let decoded = HubbleFlows.decode(Self.fixture)
        #expect(decoded.problems.isEmpty)
        #expect(decoded.skipped == 3, "POLICY_DENY drop, the API server's reply, the L7 DNS response")
        #expect(decoded.connections.count == 2)
        let dns = try #require(decoded.connections.first { $0.key.serverPort == 53 })
        #expect(dns.key.client == IPAddress("10.10.4.93") && dns.key.server == IPAddress("10.10.1.35") && dns.key.transport == .udp)
        #expect(dns.firstSeen == Timestamp.parse("2026-09-13T11:15:24.514Z"))
        #expect(dns.clientIdentity == nil, "a pod Hubble gives no workload for is left to the snapshot")
        #expect(dns.serverIdentity == .workload(WorkloadReference(namespace: "kube-system", kind: "Deployment", name: "coredns"), labels: ["k8s-app": "kube-dns"]),
                "Cilium's own labels (io.cilium.*, io.kubernetes.pod.namespace) and gen: labels are not the pod's")
        let host = try #require(decoded.connections.first { $0.key.serverPort == 9922 })
        #expect(host.clientIdentity == .node && host.serverIdentity == .world)
    }

    @Test("direction without is_reply: SYN+ACK is the server's answer, else the lower port serves; a reused address never merges two workloads")
    func directionAndMerging() {
        func endpoint(_ workload: String) -> String {
            #"{"namespace":"shop","labels":["k8s:app=\#(workload)"],"workloads":[{"name":"\#(workload)","kind":"\#(workload == "db" ? "StatefulSet" : "Deployment")"}]}"#
        }
        func record(_ source: (String, Int, String), _ destination: (String, Int, String), flags: String? = nil, time: String = "2026-11-22T10:00:00Z") -> String {
            let flagsJSON = flags.map { ",\"flags\":{\($0)}" } ?? ""
            return """
                {"flow":{"time":"\(time)","verdict":"FORWARDED","IP":{"source":"\(source.0)","destination":"\(destination.0)"},"l4":{"TCP":{"source_port":\(source.1),"destination_port":\(destination.1)\(flagsJSON)}},"source":\(endpoint(source.2)),"destination":\(endpoint(destination.2)),"Type":"L3_L4"}}
                """
        }
        let lines = [
            // The database answers web's SYN: web (10.42.0.5) is the client of port 5432.
            record(("10.42.0.6", 5432, "db"), ("10.42.0.5", 41000, "web"), flags: "\"SYN\":true,\"ACK\":true"),
            // No SYN, no is_reply: the lower port serves.
            record(("10.42.0.5", 41000, "web"), ("10.42.0.6", 5432, "db"), flags: "\"ACK\":true", time: "2026-11-22T10:01:00Z"),
            // Later, cart holds 10.42.0.5.
            record(("10.42.0.5", 41002, "cart"), ("10.42.0.6", 5432, "db"), flags: "\"SYN\":true", time: "2026-11-22T10:02:00Z"),
        ].joined(separator: "\n")
        let decoded = HubbleFlows.decode(Array(lines.utf8))
        #expect(decoded.problems.isEmpty && decoded.skipped == 0)
        #expect(decoded.connections.allSatisfy { $0.key.client == IPAddress("10.42.0.5") && $0.key.serverPort == 5432 })
        let toDatabase = decoded.connections
        #expect(toDatabase.count == 2, "web and cart used the same address at different times: two connections")
        #expect(toDatabase.first { $0.clientIdentity.map { "\($0)" }?.contains("web") == true }?.flows == 2, "the handshake answer and the data merge")
        #expect(Set(toDatabase.compactMap { if case .workload(let workload, _)? = $0.clientIdentity { workload.name } else { nil } }) == ["web", "cart"])
    }

    @Test("reported identities resolve workloads that are not in the snapshot; their labels select pods, volatile ones removed")
    func policiesWithoutPods() throws {
        let line = """
            {"flow":{"time":"2026-11-22T10:00:00Z","IP":{"source":"10.42.0.5","destination":"10.42.0.6"},"l4":{"TCP":{"source_port":41000,"destination_port":5432,"flags":{"SYN":true}}},"source":{"namespace":"shop","labels":["k8s:app=web","k8s:pod-template-hash=7d9c","k8s:io.kubernetes.pod.namespace=shop"],"workloads":[{"name":"web","kind":"Deployment"}]},"destination":{"namespace":"shop","labels":["k8s:app=db","k8s:statefulset.kubernetes.io/pod-name=db-0"],"workloads":[{"name":"db","kind":"StatefulSet"}]},"is_reply":false}}
            """
        let connections = HubbleFlows.decode(Array(line.utf8)).connections
        let resolver = IdentityResolver(pods: [], workloads: [], services: [])
        let edges = EdgeBuilder(resolver: resolver, services: [], pods: []).edges(connections)
        let web = WorkloadReference(namespace: "shop", kind: "Deployment", name: "web"), db = WorkloadReference(namespace: "shop", kind: "StatefulSet", name: "db")
        #expect(edges.map(\.identity) == [ResolvedEdge(client: .workload(web), server: .workload(db), port: .int(5432), transport: .tcp, flows: 0)])
        #expect(edges.first?.flows == 1 && edges.first?.firstSeen == Timestamp.parse("2026-11-22T10:00:00Z"))
        let selectors = PolicyGenerator.addingReported(connections, to: [:])
        #expect(selectors == [web: ["app": "web"], db: ["app": "db"]])
        let policies = PolicyGenerator(selectors: selectors).policies(edges)
        #expect(policies.count == 2)
        let evaluator = PolicyEvaluator(policies: policies)
        let client = PolicyEvaluator.Endpoint(namespace: "shop", labels: ["app": "web", "pod-template-hash": "1"], address: IPAddress("10.42.0.5")!)
        let server = PolicyEvaluator.Endpoint(namespace: "shop", labels: ["app": "db"], address: IPAddress("10.42.0.6")!)
        #expect(evaluator.allows(from: client, to: server, port: 5432, transport: .tcp))
        #expect(!evaluator.allows(from: client, to: server, port: 5433, transport: .tcp))
    }

    @Test("canonical lines keep reported identities, and ends known only by identity have no address")
    func linesRoundTrip() {
        let connection = ObservedConnection(
            key: .init(client: ObservedConnection.Key.unknownAddress, server: ObservedConnection.Key.unknownAddress, serverPort: 8080, transport: .tcp),
            firstSeen: 1_000, lastSeen: 2_000, flows: 3, source: "istio",
            clientIdentity: .workload(WorkloadReference(namespace: "shop", kind: "", name: "web"), labels: [:]),
            serverIdentity: .service(namespace: "shop", name: "cart"))
        let hubble = ObservedConnection(key: .init(client: IPAddress("10.0.0.1")!, server: IPAddress("10.0.0.2")!, serverPort: 53, transport: .udp),
                                        firstSeen: 0, lastSeen: 0, source: "hubble", clientIdentity: .node, serverIdentity: .world)
        let bytes = ConnectionLines.encode([connection, hubble])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("\"client\":\"0.0.0.0\""), "\(text)")
        let decoded = ConnectionLines.decode(bytes)
        #expect(decoded.problems.isEmpty)
        #expect(decoded.connections == [connection, hubble])
        let bad = ConnectionLines.decode(Array(#"{"serverIdentity":{"kind":"Service"},"client":"10.0.0.1","port":80,"protocol":"TCP","firstSeen":"2026-11-22T10:00:00Z"}"#.utf8))
        #expect(bad.problems.first?.message.contains("serverIdentity.namespace") == true)
    }

    @Test("fuzz: truncated, mutated and nested records never trap; each bad line is one problem")
    func fuzz() {
        var generator = SplitMix(seed: 7)
        let lines = Self.fixture.split(separator: UInt8(ascii: "\n")).map(Array.init)
        for round in 0..<3_000 {
            var line = lines[round % lines.count]
            switch round % 3 {
            case 0: line = Array(line.prefix(Int(generator.next() % UInt64(line.count))))
            case 1: for _ in 0..<(1 + generator.next() % 8) { 
                let byte = UInt8(truncatingIfNeeded: generator.next())
                line[Int(generator.next() % UInt64(line.count))] = byte == UInt8(ascii: "\n") ? 0 : byte  // one line stays one line
            }
            default: line = Array(repeating: UInt8(ascii: "["), count: 5_000) + line
            }
            let decoded = HubbleFlows.decode(line)
            #expect(decoded.connections.count + decoded.problems.count + decoded.skipped <= 1)
        }
    }
}
