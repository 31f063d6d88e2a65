import DataTree
import Flows
import Foundation
import KubeModel
import KubeTesting
import Testing

@Suite("Istio service graph")
struct IstioServiceGraphTests {
    static func series(_ labels: [String: String], _ value: String) -> Node {
        ["metric": .sortedStringMap(labels), "value": [.double(1.0), .string(value)]]
    }

    @Test("one connection per client workload and destination; a destination_port tag is used; the rest is skipped and counted")
    func decode() throws {
        let base = ["source_workload": "web", "source_workload_namespace": "shop"]
        let response: Node = ["status": "success", "data": ["resultType": "vector", "result": [
            Self.series(base.merging(["destination_service_name": "cart", "destination_service_namespace": "shop"]) { a, _ in a }, "12.4"),
            Self.series(base.merging(["destination_workload": "db", "destination_workload_namespace": "shop", "destination_port": "5432"]) { a, _ in a }, "3"),
            Self.series(base.merging(["destination_workload": "db", "destination_workload_namespace": "shop"]) { a, _ in a }, "3"),
            Self.series(base.merging(["destination_service_name": "PassthroughCluster", "destination_service_namespace": "unknown"]) { a, _ in a }, "9"),
            Self.series(["source_workload": "unknown", "source_workload_namespace": "unknown", "destination_service_name": "cart", "destination_service_namespace": "shop"], "9"),
            Self.series(base.merging(["destination_service_name": "cart", "destination_service_namespace": "shop"]) { a, _ in a }, "0"),
        ]]]
        let decoded = try IstioServiceGraph.decode(response, end: 10_000, windowMilliseconds: 4_000).get()
        #expect(decoded.skipped == 4, "a workload without a port, passthrough, unknown client, no increase")
        #expect(decoded.connections.count == 2)
        let cart = try #require(decoded.connections.first { $0.serverIdentity == .service(namespace: "shop", name: "cart") })
        #expect(cart.key.serverPort == 0 && cart.flows == 13 && cart.firstSeen == 6_000 && cart.lastSeen == 10_000 && cart.source == "istio")
        #expect(cart.clientIdentity == .workload(WorkloadReference(namespace: "shop", kind: "", name: "web"), labels: [:]))
        #expect(decoded.connections.contains { $0.key.serverPort == 5432 })
    }

    @Test("an error from Prometheus or an unexpected result type is a clear failure")
    func failures() {
        let error: Node = ["status": "error", "errorType": "bad_data", "error": "parse error at char 5"]
        #expect(throws: IstioServiceGraph.Problem.self) { try IstioServiceGraph.decode(error, end: 0, windowMilliseconds: 0).get() }
        if case .failure(let problem) = IstioServiceGraph.decode(error, end: 0, windowMilliseconds: 0) { #expect(problem.message.contains("parse error at char 5")) }
        let matrix: Node = ["status": "success", "data": ["resultType": "matrix", "result": []]]
        #expect(throws: IstioServiceGraph.Problem.self) { try IstioServiceGraph.decode(matrix, end: 0, windowMilliseconds: 0).get() }
        #expect(IstioServiceGraph.query(window: "24h").contains(#"istio_requests_total{reporter="source"}[24h]"#))
    }
}

@Suite("Istio service graph: fuzz")
struct IstioServiceGraphFuzzTests {
    @Test("fuzz: truncated, mutated and mistyped Prometheus answers never trap and never invent connections")
    func fuzz() {
        let valid = Array(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"source_workload":"web","source_workload_namespace":"shop","destination_service_name":"cart","destination_service_namespace":"shop"},"value":[1763800000.0,"12"]},{"metric":{"source_workload":"cart","source_workload_namespace":"shop","destination_workload":"db","destination_workload_namespace":"shop","destination_port":"5432"},"value":[1763800000.0,"3"]}]}}"#.utf8)
        var generator = SplitMix(seed: 11)
        var decodedAny = 0
        for round in 0..<5_000 {
            var bytes = valid
            switch round % 3 {
            case 0: bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            case 1: for _ in 0..<(1 + generator.next() % 6) { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            default:  // a value of the wrong type where a string or array belongs
                let text = String(decoding: bytes, as: UTF8.self)
                bytes = Array(text.replacingOccurrences(of: ["\"12\"", "[1763800000.0,\"3\"]", "\"vector\"", "{\"source_workload\":\"web\""][Int(generator.next() % 4)],
                                                        with: ["12", "null", "[]", "{\"x\":1", "\"1e999\""][Int(generator.next() % 5)]).utf8)
            }
            guard let node = try? JSONReader().read(bytes) else { continue }
            if case .success(let decoded) = IstioServiceGraph.decode(node, end: 0, windowMilliseconds: 0) {
                decodedAny += 1
                #expect(decoded.connections.count <= 2)
                #expect(decoded.connections.allSatisfy { $0.flows >= 1 && $0.source == "istio" })
            }
        }
        #expect(decodedAny > 0)
    }
}
