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

        #expect(try await eventually(timeout: .seconds(20)) { !tree(firstDirectory).isEmpty })
        try await Task.sleep(for: .seconds(1))
        #expect(tree(secondDirectory).isEmpty, "the standby wrote nothing")

        // The leader stops (and releases its lease): the standby takes over and writes.
        runFirst.cancel()
        await runFirst.value
        #expect(try await eventually(timeout: .seconds(20)) { !tree(secondDirectory).isEmpty && tree(secondDirectory) == tree(firstDirectory) })

        runSecond.cancel()
        await runSecond.value
        await server.stop()
    }
}
