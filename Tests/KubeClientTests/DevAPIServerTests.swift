import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Logging
import Testing

/// `netwatch-dev-apiserver` as a person runs it: loads manifests, writes a kubeconfig that both
/// kubectl and netwatch's client use, requires its token, stops on SIGTERM.
@Suite("netwatch-dev-apiserver")
struct DevAPIServerTests {
    static let binary = repositoryRoot.appendingPathComponent(".build/debug/netwatch-dev-apiserver").path

    /// Starts the server and returns it with its kubeconfig path once it listens.
    static func launch(_ extra: [String], directory: URL) throws -> (Process, String) {
        let kubeconfig = directory.appendingPathComponent("kubeconfig-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--port", "0", "--write-kubeconfig", kubeconfig,
                             "--load", repositoryRoot.appendingPathComponent("manifests/crds").path,
                             "--load", repositoryRoot.appendingPathComponent("manifests/samples").path] + extra
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = ""
        while !line.hasSuffix("\n") {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { break }
            line += String(decoding: byte, as: UTF8.self)
        }
        #expect(line.hasPrefix("netwatch-dev-apiserver listening on http://127.0.0.1:"))
        return (process, kubeconfig)
    }

    @Test("loads the samples and writes a kubeconfig that kubectl and netwatch's client both use; exits cleanly on SIGTERM")
    func standalone() async throws {
        let directory = try temporaryDirectory()
        let (process, kubeconfig) = try Self.launch([], directory: directory)
        defer { if process.isRunning { process.terminate() } }

        let client = try KubeClient(configuration: try KubeConfiguration.load(kubeconfig: kubeconfig), logger: Logger(label: "t"))
        let monitors = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkmonitors", kind: "NetworkMonitor", namespaced: true)
        let loaded = try await client.listAll(Node.self, monitors)
        let names = loaded.items.compactMap { $0["metadata"]?["name"]?.string }.sorted()
        #expect(names.count >= 3, "\(names)")
        #expect(!(try await client.listAll(Pod.self, .pods, namespace: "shop")).items.isEmpty)

        let kubectl = try run(KubectlTests.kubectl, ["--kubeconfig", kubeconfig, "--cache-dir", directory.appendingPathComponent("cache").path, "get", "networkmonitors", "-A", "-o", "name"])
        #expect(kubectl.status == 0, "\(kubectl.stderr)")
        #expect(kubectl.stdout.split(separator: "\n").count == names.count)

        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("--token: the kubeconfig carries it and requests without it get 401")
    func token() async throws {
        let (process, kubeconfig) = try Self.launch(["--token", "dev-secret"], directory: try temporaryDirectory())
        defer { process.terminate() }
        let configuration = try KubeConfiguration.load(kubeconfig: kubeconfig)
        #expect(configuration.credentials == .bearerToken("dev-secret"))
        _ = try await KubeClient(configuration: configuration, logger: Logger(label: "t")).get(Node.self, .namespaces, name: "default")
        let anonymous = KubeClient(configuration: KubeConfiguration(server: configuration.server), transport: try CurlTransportFactory.make(), logger: Logger(label: "t"))
        let unauthorized = try await #require(throws: APIError.self) { _ = try await anonymous.get(Node.self, .namespaces, name: "default") }
        #expect(unauthorized.isUnauthorized)
    }
}
