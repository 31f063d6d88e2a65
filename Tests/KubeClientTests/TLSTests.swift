import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeTesting
import Logging
import Testing

@Suite("TLS with client certificates against the test API server")
struct TLSTests {
    @Test("verified TLS with client certificates from files and from inline data; no certificate or the wrong CA fails")
    func clientCertificates() async throws {
        let pki = try TestPKI.make()
        let options = TestAPIServer.Options(tls: .init(certificate: pki.path("server.crt"), key: pki.path("server.key"), clientCA: pki.path("ca.crt")))
        let files = TLSSettings(certificateAuthority: .file(pki.path("ca.crt")), clientCertificate: .file(pki.path("client.crt")), clientKey: .file(pki.path("client.key")))
        try await withCluster(options: options, tls: files) { cluster in
            #expect(cluster.server.url.hasPrefix("https://127.0.0.1:"))
            let namespace = try await cluster.client.get(Node.self, .namespaces, name: "default")
            #expect(namespace["metadata"]?["name"] == "default")
            // The server offers HTTP/2 by ALPN; the transport takes it, for requests and watches.
            let head = try await cluster.transport.send(HTTPRequest(method: "GET", url: cluster.server.url + "/version")).head
            #expect(head.version == "HTTP/2", "\(head)")
            let watch = try await cluster.client.watch(Node.self, .configMaps, namespace: "default", options: WatchOptions(resourceVersion: String(cluster.server.state.currentRevision), allowBookmarks: false))
            _ = try await cluster.client.create(Node.self, .configMaps, namespace: "default", object: configMapNode("over-h2", data: ["k": "v"]))
            for try await event in watch {
                if case .added(let object) = event { #expect(object["metadata"]?["name"] == "over-h2"); break }
            }
            watch.close()

            func client(_ tls: TLSSettings) throws -> KubeClient {
                KubeClient(configuration: KubeConfiguration(server: cluster.server.url, tls: tls), transport: try CurlTransportFactory.make(.init(tls: tls)), logger: .init(label: "t"), retryPolicy: .init(maxServerErrorRetries: 0))
            }
            func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: pki.directory.appendingPathComponent(name))) }
            let inline = TLSSettings(certificateAuthority: .data(try bytes("ca.crt")), clientCertificate: .data(try bytes("client.crt")), clientKey: .data(try bytes("client.key")))
            _ = try await client(inline).get(Node.self, .namespaces, name: "default")

            let anonymous = try await #require(throws: TransportError.self) {
                _ = try await client(TLSSettings(certificateAuthority: .file(pki.path("ca.crt")))).get(Node.self, .namespaces, name: "default")
            }
            #expect([.tls, .receiveFailed, .sendFailed].contains(anonymous.kind), "\(anonymous)")

            var wrongCA = files
            wrongCA.certificateAuthority = .file(pki.path("other-ca.crt"))
            let untrusted = try await #require(throws: TransportError.self) { _ = try await client(wrongCA).get(Node.self, .namespaces, name: "default") }
            #expect(untrusted.kind == .tls, "\(untrusted)")
            #expect(untrusted.description.contains("https://127.0.0.1:"))

            var missingFile = files
            missingFile.clientKey = .file(pki.path("does-not-exist.key"))
            let misconfigured = try await #require(throws: TransportError.self) { _ = try await client(missingFile).get(Node.self, .namespaces, name: "default") }
            #expect(misconfigured.kind == .tlsConfiguration, "\(misconfigured)")

            // A key that is not the certificate's: said in words, not as OpenSSL's code.
            var mismatched = files
            mismatched.clientKey = .file(pki.path("server.key"))
            let wrongKey = try await #require(throws: TransportError.self) { _ = try await client(mismatched).get(Node.self, .namespaces, name: "default") }
            #expect(wrongKey.kind == .tlsConfiguration, "\(wrongKey)")
            #expect(wrongKey.description.contains("not the certificate's key") && wrongKey.description.contains("client-key"), "\(wrongKey)")
        }
    }

    @Test("insecure-skip-tls-verify works only when set, and says so once")
    func insecureSkipVerify() async throws {
        let pki = try TestPKI.make()
        let options = TestAPIServer.Options(tls: .init(certificate: pki.path("server.crt"), key: pki.path("server.key")))
        let server = try await TestAPIServer.start(options)
        defer { Task { await server.stop() } }
        let captured = CapturedLogs()
        let logger = Logger(label: "insecure") { _ in captured }
        let insecure = TLSSettings(insecureSkipVerify: true)
        let transport = try CurlTransport(options: .init(tls: insecure), logger: logger)
        let client = KubeClient(configuration: KubeConfiguration(server: server.url, tls: insecure), transport: transport, logger: logger)
        _ = try await client.get(Node.self, .namespaces, name: "default")
        _ = try await client.get(Node.self, .namespaces, name: "kube-system")
        let warnings = captured.lines.filter { $0.hasPrefix("warning") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("insecure-skip-tls-verify") == true)

        // The same server without the setting (and without its CA) is refused.
        let strict = try CurlTransportFactory.make()
        let refused = try await #require(throws: TransportError.self) { _ = try await strict.send(HTTPRequest(method: "GET", url: server.url + "/version")) }
        #expect(refused.kind == .tls)
    }
}

import Synchronization

/// A log handler that keeps what it is given.
final class CapturedLogs: LogHandler, Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    var metadata: Logger.Metadata { get { [:] } set {} }
    var logLevel: Logger.Level { get { .trace } set {} }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { nil } set {} }
    func log(event: LogEvent) {
        storage.withLock { $0.append("\(event.level): \(event.message)") }
    }
}
