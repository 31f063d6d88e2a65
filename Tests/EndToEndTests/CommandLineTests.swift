import Foundation
import Testing

/// The `netwatch` executable as users run it: exit codes, what gets written, `--check`.
@Suite("netwatch command line", .serialized)
struct CommandLineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/netwatch").path

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try Self.execute(Self.binary, arguments)
    }

    /// Runs `executable` with `arguments` to its end: exit status and what it printed.
    static func execute(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("render writes the samples, a second run changes nothing, --check passes then catches a stale file")
    func renderAndCheck() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let samples = Self.root.appendingPathComponent("manifests/samples").path
        let first = try run(["render", "--input", samples, "--output", out])
        #expect(first.status == 0, "\(first.stderr)")
        let config = "\(out)/monitoring/main/prometheus/prometheus-shard-0.yml"
        let modified = try FileManager.default.attributesOfItem(atPath: config)[.modificationDate] as? Date
        let second = try run(["render", "--input", samples, "--output", out])
        #expect(second.stderr.contains("0 written"))
        #expect(try FileManager.default.attributesOfItem(atPath: config)[.modificationDate] as? Date == modified)
        #expect(try run(["render", "--input", samples, "--output", out, "--check"]).status == 0)

        try "# edited by hand\n".write(toFile: config, atomically: true, encoding: .utf8)
        let stale = try run(["render", "--input", samples, "--output", out, "--check"])
        #expect(stale.status == 1)
        #expect(stale.stdout.contains("--- a/monitoring/main/prometheus/prometheus-shard-0.yml"))
        #expect(stale.stdout.contains("-# edited by hand"))
        #expect(try String(contentsOfFile: config, encoding: .utf8) == "# edited by hand\n", "--check must not write")
    }

    @Test("a malformed file is reported as file:line:column, exit 2, and nothing is written")
    func malformedInput() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.root.appendingPathComponent("manifests/samples/monitoring.yaml").path,
            toPath: input.appendingPathComponent("monitoring.yaml").path)
        try "apiVersion: v1\nkind: Pod\nmetadata: {name: [broken\n".write(to: input.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out").path
        let result = try run(["render", "--input", input.path, "--output", out])
        #expect(result.status == 2)
        #expect(result.stderr.contains("bad.yaml:4:1:") || result.stderr.contains("bad.yaml:3:"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("an invalid resource exits 1 naming kind, namespace/name and field, and the rest is still written")
    func invalidResource() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.yaml")
        try """
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: s, namespace: mon}
            spec: {monitorSelector: {}}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: broken, namespace: mon}
            spec: {selector: {}, endpoints: [{port: 0, interval: 5 minutes}]}
            """.write(to: input, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out").path
        let result = try run(["render", "--input", input.path, "--output", out])
        #expect(result.status == 1)
        #expect(result.stderr.contains("NetworkMonitor mon/broken: spec.endpoints[0].interval:"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/mon/s/prometheus/prometheus.yml"))
        let validate = try run(["validate", "--input", input.path])
        #expect(validate.status == 1)
    }

    @Test("manifests/crds is what netwatch crds generates")
    func crdsUpToDate() throws {
        let result = try run(["crds", "--output", Self.root.appendingPathComponent("manifests/crds").path, "--check"])
        #expect(result.status == 0, "manifests/crds is stale; run make crds\n\(result.stdout)")
    }

    @Test("version prints the version")
    func version() throws {
        #expect(try run(["version"]).stdout.hasPrefix("netwatch 0."))
    }
}
