import CurlTransport
import Foundation
import KubeClient
import KubeRuntime
import KubeTesting
import Logging
import Operator
import Synchronization
import Testing

/// A directory written the way the kubelet's atomic writer updates a ConfigMap volume: the
/// content in a timestamped `..<n>` directory, `..data` linking to it (swapped by rename), and
/// each visible name linking through `..data`.
struct ConfigMapVolume {
    let path: String
    private static let counter = Mutex(0)

    init(path: String, files: [String: String]) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try update(files)
        for name in files.keys {
            try FileManager.default.createSymbolicLink(atPath: "\(path)/\(name)", withDestinationPath: "..data/\(name)")
        }
    }

    func update(_ files: [String: String]) throws {
        let generation = Self.counter.withLock { $0 += 1; return $0 }
        let directory = "..2026_11_22_\(generation)"
        try FileManager.default.createDirectory(atPath: "\(path)/\(directory)", withIntermediateDirectories: true)
        for (name, content) in files { try content.write(toFile: "\(path)/\(directory)/\(name)", atomically: false, encoding: .utf8) }
        let old = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(path)/..data")
        try FileManager.default.createSymbolicLink(atPath: "\(path)/..data_tmp", withDestinationPath: directory)
        guard rename("\(path)/..data_tmp", "\(path)/..data") == 0 else { throw CocoaError(.fileWriteUnknown) }
        if let old { try FileManager.default.removeItem(atPath: "\(path)/\(old)") }
    }
}

@Suite("Reloader sidecar")
struct ReloaderTests {
    static func digest(_ value: UInt64) -> DirectoryDigest { DirectoryDigest(value: value, files: 1) }

    @Test("decides: baseline without reload, settle one poll, retry failures with backoff, nothing for the loaded content")
    func decision() {
        var decision = ReloadDecision()
        let t = { (seconds: Double) in RuntimeInstant(.milliseconds(Int(seconds * 1000))) }
        #expect(decision.observed(Self.digest(1), now: t(0)) == .wait)  // baseline
        #expect(decision.observed(Self.digest(1), now: t(1)) == .wait)
        #expect(decision.observed(Self.digest(2), now: t(2)) == .wait)  // changed: settle
        #expect(decision.observed(Self.digest(2), now: t(3)) == .reload(Self.digest(2)))
        decision.reloaded(Self.digest(2), succeeded: false, now: t(3), unit: 1)  // backoff 0.8 s
        #expect(decision.observed(Self.digest(2), now: t(3.5)) == .wait)
        #expect(decision.observed(Self.digest(2), now: t(3.9)) == .reload(Self.digest(2)))
        decision.reloaded(Self.digest(2), succeeded: false, now: t(3.9), unit: 1)  // backoff 1.6 s
        #expect(decision.observed(Self.digest(2), now: t(5.0)) == .wait)
        // New content resets the wait: settle one poll, then at once.
        #expect(decision.observed(Self.digest(3), now: t(5.1)) == .wait)
        #expect(decision.observed(Self.digest(3), now: t(5.2)) == .reload(Self.digest(3)))
        decision.reloaded(Self.digest(3), succeeded: true, now: t(5.2), unit: 1)
        #expect(decision.loaded == Self.digest(3))
        #expect(decision.observed(Self.digest(3), now: t(6)) == .wait)
        // A change that is reverted before it settles asks for nothing.
        #expect(decision.observed(Self.digest(4), now: t(7)) == .wait)
        #expect(decision.observed(Self.digest(3), now: t(8)) == .wait)
        #expect(decision.observed(Self.digest(3), now: t(9)) == .wait)
    }

    @Test("digests a ConfigMap volume by content: a swap with new content changes it, a touch or a swap with the same content does not")
    func digestFollowsContent() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-digest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let volume = try ConfigMapVolume(path: path, files: ["prometheus.yml": "global: {}\n", "rules.yml": "groups: []\n"])
        let first = DirectoryDigest.of([path])
        #expect(first.files == 2)
        try volume.update(["prometheus.yml": "global: {}\n", "rules.yml": "groups: []\n"])
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: path + "/..data")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: "\(path)/\(target)/rules.yml")
        #expect(DirectoryDigest.of([path]) == first)
        try volume.update(["prometheus.yml": "global: {scrape_interval: 7s}\n", "rules.yml": "groups: []\n"])
        #expect(DirectoryDigest.of([path]) != first)
    }

    @Test("link loops (w/a -> ., w/b -> .) end: the scan reads each directory once and sees a change")
    func linkLoopsEnd() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-loop-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try "global: {}\n".write(toFile: path + "/prometheus.yml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: path + "/a", withDestinationPath: ".")
        try FileManager.default.createSymbolicLink(atPath: path + "/b", withDestinationPath: ".")
        let digest = DirectoryDigest.of([path])  // before the fix this never returned
        #expect(digest.files == 1)
        try "global: {scrape_interval: 7s}\n".write(toFile: path + "/prometheus.yml", atomically: true, encoding: .utf8)
        #expect(DirectoryDigest.of([path]) != digest)
    }
}

/// `netwatch reloader` as a user runs it, next to a real Prometheus, Alertmanager and
/// blackbox_exporter (Debian's) on loopback.
@Suite("netwatch reloader with real servers")
struct ReloaderCommandTests {
    static let http = try! CurlTransport(logger: Logger(label: "test"))

    static func metrics(_ port: Int) async -> String {
        guard let response = try? await http.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/metrics", timeout: .seconds(5))),
              response.head.status == 200 else { return "" }
        return String(decoding: response.body, as: UTF8.self)
    }

    static func value(_ sample: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(sample + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    static func start(_ executable: String, _ arguments: [String], log: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        if let log, FileManager.default.createFile(atPath: log, contents: nil), let handle = FileHandle(forWritingAtPath: log) {
            process.standardError = handle
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    struct Server: Sendable {
        var name: String
        var binary: String
        var file: String
        var valid: [String]
        var invalid: String
        var arguments: @Sendable (_ config: String, _ work: String, _ port: Int) -> [String]
    }

    static let servers = [
        Server(name: "prometheus", binary: "/usr/bin/prometheus", file: "prometheus.yml",
               valid: ["global: {scrape_interval: 15s}\n", "global: {scrape_interval: 20s}\n", "global: {scrape_interval: 25s}\n"],
               invalid: "global: {scrape_interval: banana}\n",
               arguments: { config, work, port in ["--config.file=\(config)", "--storage.tsdb.path=\(work)/data", "--web.listen-address=127.0.0.1:\(port)", "--web.enable-lifecycle"] }),
        Server(name: "alertmanager", binary: "/usr/bin/prometheus-alertmanager", file: "alertmanager.yml",
               valid: ["route: {receiver: a}\nreceivers: [{name: a}]\n", "route: {receiver: b}\nreceivers: [{name: b}]\n", "route: {receiver: c}\nreceivers: [{name: c}]\n"],
               invalid: "route: {receiver: missing}\nreceivers: [{name: a}]\n",
               arguments: { config, work, port in ["--config.file=\(config)", "--storage.path=\(work)/data", "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address="] }),
        Server(name: "blackbox_exporter", binary: "/usr/bin/prometheus-blackbox-exporter", file: "blackbox.yml",
               valid: ["modules: {a: {prober: tcp}}\n", "modules: {b: {prober: icmp}}\n", "modules: {c: {prober: http}}\n"],
               invalid: "modules: {a: {prober: tcp, tcp: {no_such_option: true}}}\n",
               arguments: { config, _, port in ["--config.file=\(config)", "--web.listen-address=127.0.0.1:\(port)"] }),
    ]

    @Test("reloads once per settled change, verified; a touch causes none; a rejected config is retried until fixed", arguments: servers.map(\.name))
    func reloadsRealServer(name: String) async throws {
        let server = try #require(Self.servers.first { $0.name == name })
        #expect(FileManager.default.isExecutableFile(atPath: server.binary), "run hack/setup: it installs Debian's \(server.name)")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-reloader-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let volume = try ConfigMapVolume(path: work + "/config", files: [server.file: server.valid[0]])
        let serverPort = freeLoopbackPort(), reloaderPort = freeLoopbackPort()
        let prefix = "\(server.name)_config_last_reload"

        let process = try Self.start(server.binary, server.arguments(work + "/config/" + server.file, work, serverPort))
        defer { process.terminate(); process.waitUntilExit() }
        #expect(try await eventually(timeout: .seconds(30)) { Self.value(prefix + "_successful", in: await Self.metrics(serverPort)) == 1 })
        let startedAt = try #require(Self.value(prefix + "_success_timestamp_seconds", in: await Self.metrics(serverPort)))

        // Credentials in the URL (user info, a token parameter) must never reach the log.
        let (password, token) = ("reloader-secret-pw", "reloader-secret-token")
        let log = work + "/reloader.log"
        let reloader = try Self.start(OperatorCommandTests.build.appendingPathComponent("netwatch").path, [
            "reloader", "--watch", work + "/config", "--reload-url", "http://admin:\(password)@127.0.0.1:\(serverPort)/-/reload?token=\(token)",
            "--server", server.name, "--interval", "100ms", "--listen-address", "127.0.0.1:\(reloaderPort)"], log: log)
        defer { if reloader.isRunning { reloader.terminate(); reloader.waitUntilExit() } }
        #expect(try await eventually { Self.value("netwatch_reloader_watched_files", in: await Self.metrics(reloaderPort)) == 1 })

        // The content at start is not reloaded; new content is, once, and the server confirms it.
        try await Task.sleep(for: .milliseconds(400))
        #expect(Self.value("netwatch_reloader_reloads_total{result=\"success\"}", in: await Self.metrics(reloaderPort)) ?? 0 == 0)
        try await Task.sleep(for: .seconds(1))  // the servers' reload timestamps have one-second resolution
        try volume.update([server.file: server.valid[1]])
        #expect(try await eventually {
            Self.value(prefix + "_success_timestamp_seconds", in: await Self.metrics(serverPort)).map { $0 > startedAt } == true
        })
        #expect(try await eventually { Self.value("netwatch_reloader_reloads_total{result=\"success\"}", in: await Self.metrics(reloaderPort)) == 1 })

        // Same content swapped in again (a kubelet resync), and a touched file: no reload.
        try volume.update([server.file: server.valid[1]])
        try await Task.sleep(for: .milliseconds(600))
        #expect(Self.value("netwatch_reloader_reloads_total{result=\"success\"}", in: await Self.metrics(reloaderPort)) == 1)

        // A configuration the server rejects: it keeps the old one, the reloader reports the
        // failure and retries; fixed content is then reloaded.
        try volume.update([server.file: server.invalid])
        #expect(try await eventually { Self.value("netwatch_reloader_reloads_total{result=\"failure\"}", in: await Self.metrics(reloaderPort)) ?? 0 >= 2 })
        let reloaderMetrics = await Self.metrics(reloaderPort)
        #expect(Self.value("netwatch_reloader_last_reload_successful", in: reloaderMetrics) == 0)
        #expect(Self.value(prefix + "_successful", in: await Self.metrics(serverPort)) == 0)
        try volume.update([server.file: server.valid[2]])
        #expect(try await eventually { Self.value("netwatch_reloader_reloads_total{result=\"success\"}", in: await Self.metrics(reloaderPort)) == 2 })
        #expect(Self.value(prefix + "_successful", in: await Self.metrics(serverPort)) == 1)
        #expect(Self.value("netwatch_reloader_last_reload_successful", in: await Self.metrics(reloaderPort)) == 1)

        reloader.terminate()
        reloader.waitUntilExit()
        #expect(reloader.terminationStatus == 0)
        let logged = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(logged.contains("http://***@127.0.0.1:\(serverPort)/-/reload?token=***"), "\(logged)")
        #expect(!logged.contains(password) && !logged.contains(token), "the reloader logged a credential")
    }
}
