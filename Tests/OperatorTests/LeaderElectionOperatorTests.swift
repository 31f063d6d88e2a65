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

@Suite("Two operator replicas")
struct LeaderElectionOperatorTests {
    @Test("with leader election exactly one replica writes; the other takes over when it stops")
    func exactlyOneWrites() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        let server = try await TestAPIServer.start()
        #expect(server.state.load(ManifestLoader.crds() + loaded.objects.map(\.document)).isEmpty)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-replicas-\(UUID().uuidString)").path
        var logger = Logger(label: "operator")
        logger.logLevel = .warning
        func replica(_ identity: String) throws -> (NetwatchOperator, String) {
            let client = try KubeClient(configuration: KubeConfiguration(server: server.url), logger: logger)
            let directory = root + "/" + identity
            return (NetwatchOperator(client: client, options: .init(outputDirectory: directory, leaseNamespace: "monitoring", identity: identity), logger: logger, transport: try CurlTransport(logger: logger)), directory)
        }
        let (first, firstDirectory) = try replica("replica-1")
        let runFirst = Task { await first.run() }
        try await Task.sleep(for: .milliseconds(300))
        let (second, secondDirectory) = try replica("replica-2")
        let runSecond = Task { await second.run() }

        // Either may win the lease (under load the second can be first to ask): one writes.
        #expect(try await eventually(timeout: .seconds(20)) { !tree(firstDirectory).isEmpty || !tree(secondDirectory).isEmpty })
        let firstLeads = !tree(firstDirectory).isEmpty
        let (leader, standby) = firstLeads ? (runFirst, runSecond) : (runSecond, runFirst)
        let (leaderDirectory, standbyDirectory) = firstLeads ? (firstDirectory, secondDirectory) : (secondDirectory, firstDirectory)
        try await Task.sleep(for: .seconds(1))
        #expect(tree(standbyDirectory).isEmpty, "the standby wrote nothing")

        // The leader stops (and releases its lease): the standby takes over and writes.
        leader.cancel()
        await leader.value
        #expect(try await eventually(timeout: .seconds(20)) { !tree(standbyDirectory).isEmpty && tree(standbyDirectory) == tree(leaderDirectory) })

        standby.cancel()
        await standby.value
        await server.stop()
    }
}
