import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import RenderIO
import Testing

@Suite("Operator feedback on invalid objects")
struct ObjectFeedbackTests {
    static let monitors = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkmonitors", kind: "NetworkMonitor", namespaced: true)
    static let events = APIResource(group: "", version: "v1", resource: "events", kind: "Event", namespaced: true)

    static func monitor(_ name: String, endpoint: Node) -> Node {
        ["apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkMonitor",
         "metadata": ["name": .string(name), "namespace": "shop", "labels": ["netwatch.dev/stack": "main"]],
         "spec": ["selector": ["matchLabels": ["app": "web"]], "endpoints": [endpoint]]]
    }

    @Test("an invalid NetworkMonitor gets Accepted=False naming the field, and one Event; the others render and are Accepted")
    func invalidMonitorBecomesConditionAndEvent() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let badRegex = Self.monitor("bad-regex", endpoint: ["port": "metrics", "relabelings": [["sourceLabels": ["__meta_kubernetes_pod_name"], "regex": "web(?=-)", "action": "keep"]]])
        let slow = Self.monitor("slow", endpoint: ["port": "metrics", "interval": "10s", "scrapeTimeout": "20s"])
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-feedback-\(UUID().uuidString)").path
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document) + [badRegex, slow], outputDirectory: live)
        let client = harness.client

        func condition(_ name: String) async -> Node? {
            let object = try? await client.get(Node.self, Self.monitors, namespace: "shop", name: name)
            return object?["status"]?["conditions"]?.sequence?.first { $0["type"] == "Accepted" }
        }
        #expect(try await eventually(timeout: .seconds(30)) { await condition("bad-regex")?["status"] == "False" })
        let rejected = try #require(await condition("bad-regex"))
        #expect(rejected["reason"] == "InvalidConfiguration")
        #expect(rejected["message"]?.string?.contains("spec.endpoints[0].relabelings[0].regex") == true, "\(rejected)")
        #expect(try await eventually(timeout: .seconds(30)) { await condition("slow")?["status"] == "False" })
        #expect(await condition("slow")?["message"]?.string?.contains("spec.endpoints[0].scrapeTimeout") == true)
        let slowStatus = try await client.get(Node.self, Self.monitors, namespace: "shop", name: "slow")["status"]
        #expect(slowStatus?["endpoints"] == 0)
        #expect(slowStatus?["observedGeneration"] == 1)
        #expect(try await eventually(timeout: .seconds(30)) { await condition("web")?["status"] == "True" })
        #expect(try await client.get(Node.self, Self.monitors, namespace: "shop", name: "web")["status"]?["endpoints"] == 2, "one endpoint and the network exporter")
        // The valid monitors still render.
        #expect(try await eventually(timeout: .seconds(30)) { (try? String(contentsOfFile: live + "/monitoring/main/prometheus/prometheus-shard-0.yml", encoding: .utf8))?.contains("netwatch/shop/web/0") == true })

        func warnings(about name: String) async throws -> [Node] {
            try await client.list(Node.self, Self.events, namespace: "shop").items.filter { $0["involvedObject"]?["name"]?.string == name }
        }
        #expect(try await eventually(timeout: .seconds(30)) { try await warnings(about: "bad-regex").count == 1 })
        let event = try #require(try await warnings(about: "bad-regex").first)
        #expect(event["type"] == "Warning")
        #expect(event["reason"] == "InvalidConfiguration")
        #expect(event["involvedObject"]?["kind"] == "NetworkMonitor")
        #expect(event["involvedObject"]?["uid"] != nil)
        #expect(event["source"]?["component"] == "netwatch")

        // Another render (an unrelated change) records no second Event for the same problem.
        let touched = try await client.patch(Node.self, .namespaces, name: "shop", patch: .merge(["metadata": ["labels": ["touched": "yes"]]]))
        try await harness.settled(after: touched, .namespaces)
        #expect(try await warnings(about: "bad-regex").count == 1)
        #expect(try await warnings(about: "slow").count == 1)

        // NetworkAlerts from the samples: accepted with its rule count; a bad pack knob turns it
        // Accepted=False naming the field while the other packs stay written.
        let alertsResource = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkalerts", kind: "NetworkAlerts", namespaced: true)
        func alertsStatus() async -> Node? { try? await client.get(Node.self, alertsResource, namespace: "monitoring", name: "network")["status"] }
        #expect(try await eventually(timeout: .seconds(30)) { await alertsStatus()?["conditions"]?.sequence?.first?["status"] == "True" })
        let rulesBefore = { if case .int(let value)? = $0 { value } else { 0 } }(await alertsStatus()?["rules"])
        #expect(rulesBefore > 40)
        _ = try await client.patch(Node.self, alertsResource, namespace: "monitoring", name: "network",
                                   patch: .json([["op": "replace", "path": "/spec/packs/1/thresholds/retransmitsPerSecond", "value": -5]]))
        #expect(try await eventually(timeout: .seconds(30)) { await alertsStatus()?["conditions"]?.sequence?.first?["status"] == "False" })
        let alertsCondition = await alertsStatus()?["conditions"]?.sequence?.first
        #expect(alertsCondition?["message"]?.string?.hasPrefix("spec.packs[1].thresholds.retransmitsPerSecond: -5 is out of range") == true, "\(String(describing: alertsCondition))")
        let rulesAfter = { if case .int(let value)? = $0 { value } else { 0 } }(await alertsStatus()?["rules"])
        #expect(rulesAfter > 0 && rulesAfter < rulesBefore, "the tcp pack is skipped, the others stay")
        #expect(try await eventually(timeout: .seconds(30)) { try await client.list(Node.self, Self.events, namespace: "monitoring").items.contains { $0["involvedObject"]?["name"] == "network" } })

        // Fixing the monitor turns it Accepted.
        _ = try await client.patch(Node.self, Self.monitors, namespace: "shop", name: "slow", patch: .merge(["spec": ["endpoints": [["port": "metrics", "interval": "10s", "scrapeTimeout": "5s"]]]]))
        #expect(try await eventually(timeout: .seconds(30)) { await condition("slow")?["status"] == "True" })
        await harness.stop()
    }

    @Test("a NetworkMonitor nested deeper than netwatch reads (kube-apiserver stores up to 10,000 levels) gets Accepted=False and an Event, listed or watched; the others keep rendering")
    func unreadableMonitorDoesNotStallItsKind() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        var deep: Node = "bottom"
        for _ in 0..<1_500 { deep = [deep] }
        func monitor(_ name: String, app: String = "web", extra: Node? = nil) -> Node {
            var spec: Node = ["selector": ["matchLabels": ["app": .string(app)]], "endpoints": [["port": "metrics"]]]
            if let extra, case .mapping(var fields) = spec { fields["x-extra"] = extra; spec = .mapping(fields) }
            return ["apiVersion": "netwatch.dev/v1alpha1", "kind": "NetworkMonitor",
                    "metadata": ["name": .string(name), "namespace": "shop", "labels": ["netwatch.dev/stack": "main"]], "spec": spec]
        }
        let listed = monitor("deep-listed", extra: deep)
        let live = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-deep-\(UUID().uuidString)").path
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document) + [listed], outputDirectory: live)
        defer { try? FileManager.default.removeItem(atPath: live) }
        let client = harness.client

        func condition(_ name: String) async -> Node? {
            // Read through the raw store: the client cannot decode the deep object either.
            let object = harness.server.state.storedObject(typeKey: "networkmonitors.netwatch.dev", namespace: "shop", name: name)
            return object?["status"]?["conditions"]?.sequence?.first { $0["type"] == "Accepted" }
        }
        #expect(try await eventually(timeout: .seconds(30)) { await condition("deep-listed")?["status"] == "False" })
        let rejected = await condition("deep-listed")
        #expect(rejected?["message"]?.string?.contains("cannot be read") == true, "\(String(describing: rejected))")
        #expect(try await eventually(timeout: .seconds(30)) { await condition("web")?["status"] == "True" })

        // Watched: created while the operator runs; later objects are still seen.
        _ = try? await client.create(Node.self, Self.monitors, namespace: "shop", object: monitor("deep-watched", extra: deep))
        _ = try await client.create(Node.self, Self.monitors, namespace: "shop", object: monitor("later", app: "api"))
        #expect(try await eventually(timeout: .seconds(30)) { await condition("deep-watched")?["status"] == "False" })
        #expect(try await eventually(timeout: .seconds(30)) { await condition("later")?["status"] == "True" })
        #expect(try await eventually(timeout: .seconds(30)) { (try? String(contentsOfFile: live + "/monitoring/main/prometheus/prometheus-shard-0.yml", encoding: .utf8))?.contains("netwatch/shop/later/0") == true })
        let events = try await client.list(Node.self, Self.events, namespace: "shop").items
        #expect(events.contains { $0["involvedObject"]?["name"] == "deep-watched" && $0["type"] == "Warning" })
        await harness.stop()
    }
}
