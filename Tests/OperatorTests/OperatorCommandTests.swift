import Foundation
import KubeTesting
import Testing

/// `netwatch operator` as a user runs it, against `netwatch-dev-apiserver` in another process.
@Suite("netwatch operator command")
struct OperatorCommandTests {
    static let build = repositoryRoot.appendingPathComponent(".build/debug")

    func start(_ name: String, _ arguments: [String], stdout: Pipe? = nil) throws -> Process {
        let process = Process()
        process.executableURL = Self.build.appendingPathComponent(name)
        process.arguments = arguments
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("writes what `netwatch render` writes for the same manifests, and exits 0 on SIGTERM")
    func operatorMatchesRender() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-op-cli-\(UUID().uuidString)").path
        let kubeconfig = directory + "/kubeconfig"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let output = Pipe()
        let server = try start("netwatch-dev-apiserver", ["--port", "0", "--write-kubeconfig", kubeconfig,
                                                          "--load", repositoryRoot.appendingPathComponent("manifests/crds").path,
                                                          "--load", repositoryRoot.appendingPathComponent("manifests/samples").path], stdout: output)
        defer { server.terminate() }
        _ = output.fileHandleForReading.readData(ofLength: 20)  // the "listening" line has started: the kubeconfig exists

        let render = try start("netwatch", ["render", "--input", repositoryRoot.appendingPathComponent("manifests/samples").path, "--output", directory + "/render"])
        render.waitUntilExit()
        // In a cluster the webhook injects, and policies come from flows, not from files: the
        // operator writes everything but the injection patches and the proposed policies.
        let rendered = tree(directory + "/render")
        #expect(rendered.keys.contains("injection/kustomization.yaml"))
        #expect(rendered.keys.contains { $0.hasPrefix("networkpolicies/") })
        let expected = rendered.filter { !$0.key.hasPrefix("injection/") && !$0.key.hasPrefix("networkpolicies/") }
        #expect(!expected.isEmpty)

        let netwatch = try start("netwatch", ["operator", "--kubeconfig", kubeconfig, "--output-dir", directory + "/live"])
        defer { if netwatch.isRunning { netwatch.terminate() } }
        let converged = try await eventually(timeout: .seconds(20)) { tree(directory + "/live") == expected }
        #expect(converged)
        netwatch.terminate()
        netwatch.waitUntilExit()
        #expect(netwatch.terminationStatus == 0)
    }
}
