import ConfigGen
import DataTree
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeModel
import KubeTesting
import Logging
import Operator
import Synchronization
import Testing
import YAML

/// The webhook as the API server reaches it: HTTPS with a verified certificate, driven by curl.
@Suite("Admission webhook over HTTPS")
struct WebhookServerTests {
    static let review = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"e911857d-c318-11e8-bbad-025000000001","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-","labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}"#

    /// curl's exit status, HTTP status and body. Waits without blocking a thread of the
    /// cooperative pool: the in-process server needs those threads to answer.
    static func curl(_ arguments: [String]) async throws -> (status: Int32, http: Int, body: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--max-time", "5", "-w", "\n%{http_code}"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = arguments.first == "-v" ? out : FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (process.terminationStatus, Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    static func post(_ url: String, ca: String, body: String, contentType: String = "application/json") async throws -> (status: Int32, http: Int, body: String) {
        try await curl(["--cacert", ca, "-X", "POST", "-H", "Content-Type: \(contentType)", "--data-binary", body, url])
    }

    @Test("curl posts AdmissionReviews: a verified certificate, the patch for a pod, 400 for a malformed review, 415 for another content type; a rotated certificate is served without a restart and without a failed request")
    func servesAndRotates() async throws {
        let pki = try TestPKI.make(serverNames: ["netwatch-webhook.netwatch-system.svc"])
        let live = pki.directory.appendingPathComponent("live")
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: pki.path("server.crt"), toPath: live.path + "/tls.crt")
        try FileManager.default.copyItem(atPath: pki.path("server.key"), toPath: live.path + "/tls.key")
        let certificate = try ServingCertificate(certificateFile: live.path + "/tls.crt", keyFile: live.path + "/tls.key")
        let handler = AdmissionHandler(
            injectors: [SidecarInjection.Injector(name: "network", namespaceSelector: LabelSelector(matchLabels: ["netwatch.dev/inject": "enabled"]))],
            capabilities: .init(nativeSidecars: true), operatorNamespace: "netwatch-system",
            namespaceLabels: { $0 == "shop" ? ["netwatch.dev/inject": "enabled"] : nil })
        let port = Mutex(0)
        let server = WebhookServer(host: "127.0.0.1", port: 0, certificate: certificate, certificateCheckInterval: .milliseconds(100), logger: Logger(label: "webhook")) { handler }
        let running = Task { try await server.run { bound in port.withLock { $0 = bound } } }
        defer { running.cancel() }
        let bound = try await eventually(timeout: .seconds(30)) { port.withLock { $0 } != 0 }
        #expect(bound)
        let url = "https://127.0.0.1:\(port.withLock { $0 })"

        let reply = try await Self.post(url + "/mutate", ca: pki.path("ca.crt"), body: Self.review)
        #expect(reply.status == 0 && reply.http == 200, "\(reply)")
        let response = try #require(try YAMLParser().parse(reply.body, file: "reply").first?.node)
        #expect(response["response"]?["uid"] == "e911857d-c318-11e8-bbad-025000000001")
        #expect(response["response"]?["patchType"] == "JSONPatch")
        let patch = try #require(Data(base64Encoded: response["response"]?["patch"]?.string ?? ""))
        #expect(String(decoding: patch, as: UTF8.self).contains("netwatch-network-exporter"))

        #expect(try await Self.post(url + "/mutate", ca: pki.path("ca.crt"), body: #"{"kind":"AdmissionReview""#).http == 400)
        let wrongType = try await Self.post(url + "/mutate", ca: pki.path("ca.crt"), body: Self.review, contentType: "text/plain")
        #expect(wrongType.http == 415 && wrongType.body.contains("application/json"))
        #expect(try await Self.curl(["--cacert", pki.path("ca.crt"), url + "/healthz"]).http == 200)
        // TLS is verified: a client trusting another CA refuses the server.
        #expect(try await Self.curl(["--cacert", pki.path("other-ca.crt"), url + "/healthz"]).status != 0)

        // Rotation: a new CA and serving certificate replace the files (as a Secret volume update
        // does); clients trusting both CAs keep working throughout, and the new CA alone soon does.
        try pki.makeCA("ca2", subject: "/CN=netwatch-test-ca-2")
        try pki.issue("server2", by: "ca2", subject: "/CN=127.0.0.1", extensions: "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth")
        let bundle = pki.path("bundle.crt")
        try (String(contentsOfFile: pki.path("ca.crt"), encoding: .utf8) + String(contentsOfFile: pki.path("ca2.crt"), encoding: .utf8)).write(toFile: bundle, atomically: true, encoding: .utf8)
        let failures = Mutex(0), served = Mutex(0)
        let load = Task {
            while !Task.isCancelled {
                let result = try await Self.post(url + "/mutate", ca: bundle, body: Self.review)
                if result.http == 200 { served.withLock { $0 += 1 } } else { failures.withLock { $0 += 1 } }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        // Key first, then certificate, each by rename: a half-updated pair must not be served.
        try FileManager.default.copyItem(atPath: pki.path("server2.key"), toPath: live.path + "/tls.key.new")
        try FileManager.default.copyItem(atPath: pki.path("server2.crt"), toPath: live.path + "/tls.crt.new")
        #expect(rename(live.path + "/tls.key.new", live.path + "/tls.key") == 0)
        try await Task.sleep(for: .milliseconds(250))
        #expect(rename(live.path + "/tls.crt.new", live.path + "/tls.crt") == 0)
        let rotated = try await eventually(timeout: .seconds(5)) { try await Self.curl(["--cacert", pki.path("ca2.crt"), url + "/healthz"]).http == 200 }
        #expect(rotated)
        try await Task.sleep(for: .milliseconds(300))
        load.cancel()
        _ = try? await load.value
        #expect(failures.withLock { $0 } == 0)
        #expect(served.withLock { $0 } >= 2, "reviews were served throughout the rotation")
        #expect(try await Self.curl(["--cacert", pki.path("ca.crt"), url + "/healthz"]).status != 0, "the old certificate is still served")
    }
}

@Suite("Clean shutdown of the long-running commands")
struct CleanShutdownTests {
    /// Starts a netwatch command with its stderr in `log`, waits until `ready`, sends SIGTERM
    /// and returns the exit status and the log.
    static func stop(_ arguments: [String], log: String, ready: () async -> Bool) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = OperatorCommandTests.build.appendingPathComponent("netwatch")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        #expect(try await eventually(timeout: .seconds(20)) { await ready() }, "\(arguments[0]) did not start")
        // The signal handlers are installed once the services run; give them that moment.
        try await Task.sleep(for: .milliseconds(500))
        process.terminate()
        try await offPoolWait(process)
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    static func offPoolWait(_ process: Process) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread { process.waitUntilExit(); continuation.resume() }
        }
    }

    @Test("netwatch webhook and netwatch operator exit 0 on SIGTERM and log no error while stopping")
    func sigterm() async throws {
        let pki = try TestPKI.make()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let work = pki.directory.path
        try """
            apiVersion: netwatch.dev/v1alpha1
            kind: SidecarInjector
            metadata: {name: exporter}
            spec: {namespaceSelector: {matchLabels: {netwatch.dev/inject: enabled}}, sidecar: networkExporter}
            """.write(toFile: work + "/injector.yaml", atomically: true, encoding: .utf8)
        let webhookPort = freeLoopbackPort()
        let (webhookStatus, webhookLog) = try await Self.stop(
            ["webhook", "--listen", "127.0.0.1:\(webhookPort)", "--tls-cert", pki.path("server.crt"), "--tls-key", pki.path("server.key"), "--injectors", work + "/injector.yaml"],
            log: work + "/webhook.log") { (try? await WebhookServerTests.curl(["--cacert", pki.path("ca.crt"), "https://127.0.0.1:\(webhookPort)/healthz"]).http) == 200 }
        #expect(webhookStatus == 0, "\(webhookLog)")
        #expect(!webhookLog.contains("\"level\":\"error\""), "\(webhookLog)")
        #expect(webhookLog.contains("\"stopped\""))

        let server = try await TestAPIServer.start()
        defer { Task { await server.stop() } }
        try server.kubeconfig(token: "t").write(toFile: work + "/kubeconfig", atomically: true, encoding: .utf8)
        let healthPort = freeLoopbackPort()
        let (operatorStatus, operatorLog) = try await Self.stop(
            ["operator", "--kubeconfig", work + "/kubeconfig", "--output-dir", work + "/out", "--health-address", "127.0.0.1:\(healthPort)"],
            log: work + "/operator.log") { (try? await WebhookServerTests.curl(["http://127.0.0.1:\(healthPort)/healthz"]).http) == 200 }
        #expect(operatorStatus == 0, "\(operatorLog)")
        #expect(!operatorLog.contains("\"level\":\"error\""), "\(operatorLog)")
    }
}

@Suite("Webhook TLS")
struct WebhookTLSTests {
    /// The cipher openssl s_client negotiated with TLS 1.2 and `cipher`, or nil when refused.
    static func negotiated(port: Int, cipher: String) async throws -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_2", "-cipher", cipher]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.contains("Cipher is") }) else { return nil }
        let name = String(line.split(separator: " ").last ?? "")
        return name == "(NONE)" ? nil : name
    }

    @Test("TLS 1.2 offers only forward-secret AEAD suites: a static-RSA suite is refused, ECDHE is served")
    func forwardSecrecy() async throws {
        let pki = try TestPKI.make()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let certificate = try ServingCertificate(certificateFile: pki.path("server.crt"), keyFile: pki.path("server.key"))
        let handler = AdmissionHandler(injectors: [], capabilities: .init(nativeSidecars: true), operatorNamespace: "netwatch-system", namespaceLabels: { _ in nil })
        let port = Mutex(0)
        let server = WebhookServer(host: "127.0.0.1", port: 0, certificate: certificate, certificateCheckInterval: .seconds(60), logger: Logger(label: "webhook")) { handler }
        let running = Task { try await server.run { bound in port.withLock { $0 = bound } } }
        defer { running.cancel() }
        #expect(try await eventually(timeout: .seconds(30)) { port.withLock { $0 } != 0 })  // TLS set-up is slow on a loaded 2-core machine
        let bound = port.withLock { $0 }
        #expect(try await Self.negotiated(port: bound, cipher: "AES128-GCM-SHA256") == nil)
        #expect(try await Self.negotiated(port: bound, cipher: "AES256-SHA") == nil)
        #expect(try await Self.negotiated(port: bound, cipher: "ECDHE-ECDSA-AES128-GCM-SHA256") == "ECDHE-ECDSA-AES128-GCM-SHA256")
    }
}
