import ConfigGen
import Foundation
import KubeModel
import KubeTesting
import NetWatchAPI
import RenderIO
import Testing
import YAML

/// Nothing outside the output directory is ever written or removed, whatever the manifests,
/// the artifact paths or the `.netwatch-files` manifest say; inputs that cannot be read are
/// errors, never an empty input.
@Suite("Output directory and input safety")
struct OutputSafetyTests {
    /// A scratch tree: `out/` (the output directory) and `outside/` (must never change).
    struct Sandbox {
        let base: String
        var out: String { base + "/out" }
        var outside: String { base + "/outside" }

        init() throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-safety-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: base + "/outside/sub", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: base + "/out/monitoring", withIntermediateDirectories: true)
            try "keep".write(toFile: base + "/outside/precious.txt", atomically: true, encoding: .utf8)
            try "keep".write(toFile: base + "/outside/sub/escaped", atomically: true, encoding: .utf8)
            try "mine".write(toFile: base + "/out/monitoring/unrelated.txt", atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: base + "/out/link", withDestinationPath: base + "/outside")
        }

        /// Every file under `outside/` and its content.
        func outsideFiles() -> [String: String] {
            var files: [String: String] = [:]
            let enumerator = FileManager.default.enumerator(atPath: outside)
            while let path = enumerator?.nextObject() as? String {
                if let data = FileManager.default.contents(atPath: outside + "/" + path) { files[path] = String(decoding: data, as: UTF8.self) }
            }
            return files
        }

        func remove() { try? FileManager.default.removeItem(atPath: base) }
    }

    @Test("an output name with ../ is rejected at decode with its field, and render writes nothing outside the output directory")
    func traversalFromAResource() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let documents = try YAMLParser().parse("""
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: evil, namespace: monitoring}
            spec: {prometheus: {output: {configMap: "x/../../../../escaped"}}, monitorSelector: {}}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkAlerts
            metadata: {name: "../../../outside/sub/escaped", namespace: monitoring}
            spec: {packs: [{name: tcp}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: "..", namespace: "../outside"}
            """, file: "evil.yaml")
        let raws = documents.flatMap { ObjectReader.rawObjects(from: $0.node, source: SourceLocation(file: "evil.yaml", line: $0.line)).0 }
        let pathProblems = documents.flatMap { ObjectReader.rawObjects(from: $0.node, source: nil).1 }
        #expect(pathProblems.map(\.field) == ["metadata.name", "metadata.name"], "\(pathProblems)")
        let (snapshot, problems) = Snapshot.decode(raws)
        #expect(problems.contains { $0.field == "spec.prometheus.output.configMap" && $0.message.contains("DNS-1123 subdomain") }, "\(problems)")
        #expect(snapshot.monitoringStacks.isEmpty)
        let before = sandbox.outsideFiles()
        _ = try OutputDirectory(root: sandbox.out).write(render(snapshot).artifacts)
        #expect(sandbox.outsideFiles() == before)
    }

    @Test("the writer refuses any artifact path not strictly inside the root, writing nothing")
    func writerRefusesEscapes() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let before = sandbox.outsideFiles()
        for path in ["../outside/precious.txt", "/etc/passwd-netwatch", "a/../../outside/x", "link/precious.txt", "./x", "a//b", ""] {
            let artifacts = [Artifact(path: "ok/file.txt", bytes: Array("ok".utf8), role: .fileSD), Artifact(path: path, bytes: Array("pwned".utf8), role: .fileSD)]
            #expect(throws: OutputError.self, "\(path)") { _ = try OutputDirectory(root: sandbox.out).write(artifacts) }
            #expect(!FileManager.default.fileExists(atPath: sandbox.out + "/ok/file.txt"), "nothing is written when one path is refused")
        }
        #expect(sandbox.outsideFiles() == before)
        #expect(!FileManager.default.fileExists(atPath: "/etc/passwd-netwatch"))
    }

    @Test("pruning deletes only regular files it recorded, never a directory or through a symlink; untrusted lines are warnings")
    func pruningIsSafe() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try "old".write(toFile: sandbox.out + "/monitoring/old.yml", atomically: true, encoding: .utf8)
        let manifest = ["monitoring", "monitoring/old.yml", "link/precious.txt", "link", ".", "..", "../outside/precious.txt", "/etc/hostname", "a//b"]
        try (manifest.joined(separator: "\n") + "\n").write(toFile: sandbox.out + "/.netwatch-files", atomically: true, encoding: .utf8)
        let before = sandbox.outsideFiles()
        let changes = try OutputDirectory(root: sandbox.out).write([Artifact(path: "monitoring/new.yml", bytes: Array("new".utf8), role: .fileSD)])
        #expect(changes.removed == ["monitoring/old.yml"])
        #expect(FileManager.default.fileExists(atPath: sandbox.out + "/monitoring/unrelated.txt"))
        #expect(FileManager.default.fileExists(atPath: sandbox.out + "/monitoring/new.yml"))
        #expect(sandbox.outsideFiles() == before)
        #expect(FileManager.default.fileExists(atPath: "/etc/hostname"))
        let warned = changes.warnings.joined(separator: "\n")
        for line in ["\"monitoring\" is ignored" , "link/precious.txt is not removed", "\".\" is ignored", "\"..\" is ignored", "\"/etc/hostname\" is ignored"] {
            #expect(warned.contains(line) || (line == "\"monitoring\" is ignored" && warned.contains("monitoring is not removed")), "\(line) in \(warned)")
        }
    }

    @Test("temporary files a killed writer left are removed by the next write; other dot files stay")
    func staleTemporaries() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try "partial".write(toFile: sandbox.out + "/monitoring/.prometheus.yml.tmp-999999", atomically: true, encoding: .utf8)
        try "user".write(toFile: sandbox.out + "/monitoring/.keep", atomically: true, encoding: .utf8)
        _ = try OutputDirectory(root: sandbox.out).write([Artifact(path: "monitoring/prometheus.yml", bytes: Array("x".utf8), role: .prometheusConfig)])
        #expect(!FileManager.default.fileExists(atPath: sandbox.out + "/monitoring/.prometheus.yml.tmp-999999"))
        #expect(FileManager.default.fileExists(atPath: sandbox.out + "/monitoring/.keep"))
    }

    @Test("written files hold their bytes with mode 0666 less the umask, credentials 0600; no temporary file stays")
    func modesAndBytes() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let mask = umask(0o022)
        defer { umask(mask) }
        let config = Array("scrape_configs: []\n".utf8)
        let secret = Array("token".utf8)
        let credential = Artifact(path: "monitoring/secrets/token", bytes: secret, role: .credential)
        _ = try OutputDirectory(root: sandbox.out).write([Artifact(path: "monitoring/prometheus.yml", bytes: config, role: .prometheusConfig), credential])
        for (name, bytes, mode) in [("monitoring/prometheus.yml", config, 0o644), ("monitoring/secrets/token", secret, 0o600)] {
            let path = sandbox.out + "/" + name
            #expect(FileManager.default.contents(atPath: path).map { [UInt8]($0) } == bytes, "\(name)")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(name)")
        }
        let left = try FileManager.default.subpathsOfDirectory(atPath: sandbox.out).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test("an output path that is a file is a clear error, not a Cocoa error code")
    func outputIsAFile() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        do {
            _ = try OutputDirectory(root: sandbox.outside + "/precious.txt").write([])
            Issue.record("a file as the output directory was accepted")
        } catch let error as OutputError {
            #expect(error.message.contains("exists and is not a directory"))
        }
    }

    @Test("property: random artifact paths and manifest lines never write or remove anything outside the output directory", arguments: 0..<4)
    func nothingEscapes(seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed) &+ 77)
        let parts = ["..", ".", "", "link", "monitoring", "a", "b.yml", "outside", "precious.txt", "/", "%2e%2e", "x\u{0}y"]
        func path() -> String {
            (0..<Int(random.next() % 4 + 1)).map { _ in parts[Int(random.next() % UInt64(parts.count))] }.joined(separator: "/")
        }
        for _ in 0..<60 {
            let sandbox = try Sandbox()
            defer { sandbox.remove() }
            let lines = (0..<8).map { _ in path() }
            try (lines.joined(separator: "\n") + "\n").write(toFile: sandbox.out + "/.netwatch-files", atomically: true, encoding: .utf8)
            let before = sandbox.outsideFiles()
            let artifacts = (0..<3).map { _ in Artifact(path: path(), bytes: Array("x".utf8), role: .fileSD) }
            _ = try? OutputDirectory(root: sandbox.out).write(artifacts)
            #expect(sandbox.outsideFiles() == before, "artifacts \(artifacts.map(\.path)), manifest \(lines)")
            let siblings = try FileManager.default.contentsOfDirectory(atPath: sandbox.base).sorted()
            #expect(siblings == ["out", "outside"])
        }
    }

    @Test("inputs: a symlinked directory is read, link loops end, a kubelet-mounted directory is read once, a broken link is an error")
    func inputs() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let manager = FileManager.default
        let real = sandbox.base + "/manifests"
        try manager.createDirectory(atPath: real + "/..2026_12_07_00_00_00.123", withIntermediateDirectories: true)
        let monitor = "apiVersion: netwatch.dev/v1alpha1\nkind: NetworkMonitor\nmetadata: {name: m, namespace: shop}\nspec: {selector: {}, endpoints: [{port: metrics}]}\n"
        try monitor.write(toFile: real + "/..2026_12_07_00_00_00.123/monitor.yaml", atomically: true, encoding: .utf8)
        try manager.createSymbolicLink(atPath: real + "/..data", withDestinationPath: "..2026_12_07_00_00_00.123")
        try manager.createSymbolicLink(atPath: real + "/monitor.yaml", withDestinationPath: "..data/monitor.yaml")
        try manager.createSymbolicLink(atPath: real + "/loop-a", withDestinationPath: ".")
        try manager.createSymbolicLink(atPath: real + "/loop-b", withDestinationPath: real)
        try manager.createSymbolicLink(atPath: sandbox.base + "/link-to-manifests", withDestinationPath: real)

        let loaded = ManifestLoader().load(paths: [sandbox.base + "/link-to-manifests"])
        #expect(loaded.fileErrors.isEmpty, "\(loaded.fileErrors)")
        #expect(loaded.objects.map(\.metadata.name) == ["m"], "read once, through the link and past the loops")

        try manager.createSymbolicLink(atPath: real + "/gone.yaml", withDestinationPath: real + "/does-not-exist.yaml")
        let broken = ManifestLoader().load(paths: [real])
        #expect(broken.fileErrors.contains { $0.contains("gone.yaml") && $0.contains("cannot be read") }, "\(broken.fileErrors)")
        #expect(ManifestLoader().load(paths: [sandbox.base + "/nothing-here"]).fileErrors.count == 1)
    }
}
