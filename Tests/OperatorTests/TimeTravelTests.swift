import ConfigGen
import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Logging
import Operator
import RenderIO
import Testing

/// The API server's state going back in time under a running operator: an etcd restore, or a
/// server restarted from saved objects.
@Suite("Operator after the API server goes back in time")
struct TimeTravelTests {
    /// `node` with the value at `path` replaced (or added).
    static func setting(_ node: Node, _ path: ArraySlice<String>, to value: Node) -> Node {
        guard let key = path.first else { return value }
        guard case .mapping(var mapping) = node else { return node }
        mapping[key] = setting(mapping[key] ?? .mapping(Mapping()), path.dropFirst(), to: value)
        return .mapping(mapping)
    }

    static func render(_ documents: [Node], into directory: String) throws {
        let (raw, _) = documents.reduce(into: ([RawObject](), [Diagnostic]())) { result, document in
            let (objects, problems) = ObjectReader.rawObjects(from: document, source: nil)
            result.0 += objects
            result.1 += problems
        }
        let (snapshot, _) = Snapshot.decode(raw)
        _ = try OutputDirectory(root: directory).write(ConfigGen.render(snapshot, options: NetwatchOperator.renderOptions).artifacts)
    }

    @Test("restarted from saved objects minus a pod and plus a new one, with lower resourceVersions: the operator relists (410 or ResourceVersionTooLarge) and its output equals `netwatch render` of the server's objects within 15 s")
    func convergesAfterRestoreFromBackup() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path]).objects.map(\.document)
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-timetravel-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        let live = temporary + "/live", before = temporary + "/before", after = temporary + "/after"
        try Self.render(loaded, into: before)

        let harness = try await OperatorHarness.start(objects: loaded, outputDirectory: live)
        #expect(try await eventually { tree(live) == tree(before) })
        // History moves on after the backup: the operator's resourceVersion passes anything saved.
        for round in 0..<20 {
            _ = try await harness.client.patch(Node.self, .namespaces, name: "shop", patch: .merge(["metadata": ["annotations": ["round": .string(String(round))]]]))
        }
        #expect(try await eventually { tree(live) == tree(before) })

        // The backup: one pod gone, a new pod (another name, uid and address).
        let pods = loaded.filter { $0["kind"] == "Pod" }
        let removed = try #require(pods.first), template = try #require(pods.last)
        var added = Self.setting(template, ["metadata", "name"], to: "web-restored-xyz12")
        added = Self.setting(added, ["metadata", "uid"], to: "5b0c7a3e-1d2f-4c6b-9a8e-00000000abcd")
        added = Self.setting(added, ["status", "podIP"], to: "10.42.9.99")
        added = Self.setting(added, ["status", "podIPs"], to: [["ip": "10.42.9.99"]])
        let restored = loaded.filter { $0 != removed } + [added]
        try Self.render(restored, into: after)
        #expect(tree(after) != tree(before))

        let port = harness.server.port
        await harness.server.stop(gracePeriod: .milliseconds(100))  // a quick restart: the watches back off only briefly
        let server = try await TestAPIServer.start(TestAPIServer.Options(port: port), restoring: ManifestLoader.crds() + restored, problems: { #expect($0.isEmpty) })
        defer { Task { await server.stop() } }
        let started = ContinuousClock.now
        let converged = try await eventually(timeout: .seconds(15)) { tree(live) == tree(after) }
        #expect(converged, "differs from render: \(Set(tree(live).filter { tree(after)[$0.key] != $0.value }.keys).sorted())")
        #expect(ContinuousClock.now - started < .seconds(15))
        harness.running.cancel()
        await harness.running.value
    }
}
