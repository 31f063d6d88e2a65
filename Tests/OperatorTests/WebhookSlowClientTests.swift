import ConfigGen
import Foundation
import Glibc
import KubeTesting
import Logging
import Operator
import Synchronization
import Testing

/// The webhook under slow and idle clients, as an attacker on the network would hold it: raw
/// TCP connections that never start TLS, TLS clients (openssl s_client) that trickle a request
/// head or never send the body they announced. Each test runs with the standard limits.
@Suite("Webhook under slow and idle clients")
struct WebhookSlowClientTests {
    /// A server with `WebhookServer.Limits.standard`, its port and the CA that signed it.
    static func start() async throws -> (running: Task<Void, any Error>, port: Int, pki: TestPKI) {
        let pki = try TestPKI.make()
        let certificate = try ServingCertificate(certificateFile: pki.path("server.crt"), keyFile: pki.path("server.key"))
        let handler = AdmissionHandler(injectors: [], capabilities: .init(nativeSidecars: true), operatorNamespace: "netwatch-system", namespaceLabels: { _ in nil })
        let port = Mutex(0)
        let server = WebhookServer(host: "127.0.0.1", port: 0, certificate: certificate, certificateCheckInterval: .seconds(60), logger: Logger(label: "webhook")) { handler }
        let running = Task { try await server.run { bound in port.withLock { $0 = bound } } }
        #expect(try await eventually(timeout: .seconds(30)) { port.withLock { $0 } != 0 })  // TLS set-up is slow on a loaded 2-core machine
        return (running, port.withLock { $0 }, pki)
    }

    /// A TCP connection to 127.0.0.1:`port` that sends nothing.
    static func idleConnection(port: Int) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return connected == 0 ? descriptor : -1
    }

    /// Whether the server closed `descriptor` (a read returns end of file or a reset).
    static func closedByServer(_ descriptor: Int32) -> Bool {
        var byte: UInt8 = 0
        let read = recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT))
        return read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// openssl s_client connected to the server, fed by the caller through `input`.
    final class TLSClient: Sendable {
        let process = Process()
        let input = Pipe()
        let output = Pipe()

        init(port: Int) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-quiet"]
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func send(_ text: String) {
            try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
        }

        /// What the server sent, once it closed the connection. Read on a thread of its own:
        /// blocking one of the few cooperative threads would stall every other test.
        func reply() async -> String {
            let output = self.output
            return await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume(returning: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) }
            }
        }

        func stop() {
            if process.isRunning { process.terminate() }
            try? input.fileHandleForWriting.close()
        }
    }

    @Test("300 idle connections and clients trickling a request head: a real review is still answered within its 5 s budget, and the server closes them all")
    func slowAndIdleClients() async throws {
        let (running, port, pki) = try await Self.start()
        defer { running.cancel(); try? FileManager.default.removeItem(at: pki.directory) }

        // More idle connections than the connection limit (256): the rest wait in the backlog.
        // Connected from a thread of their own: a connect blocks while the listen backlog is
        // full, and must not hold one of the few cooperative threads meanwhile.
        let idle = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: (0..<300).map { _ in Self.idleConnection(port: port) }) }
        }
        defer { for descriptor in idle where descriptor >= 0 { close(descriptor) } }
        #expect(idle.allSatisfy { $0 >= 0 })
        // Slowloris: a TLS handshake, then a request head one byte every 200 ms.
        let tricklers = try (0..<3).map { _ in try TLSClient(port: port) }
        defer { for client in tricklers { client.stop() } }
        let trickle = Task {
            for byte in "POST /mutate HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\n".map(String.init) {
                for client in tricklers { client.send(byte) }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        defer { trickle.cancel() }

        let started = ContinuousClock.now
        let reply = try await WebhookServerTests.post("https://127.0.0.1:\(port)/mutate", ca: pki.path("ca.crt"), body: WebhookServerTests.review)
        #expect(reply.status == 0 && reply.http == 200, "curl (--max-time 5) got \(reply)")
        #expect(ContinuousClock.now - started < .seconds(5))

        // The server, not the clients, ends every one of them.
        #expect(try await eventually(timeout: .seconds(20)) { idle.allSatisfy(Self.closedByServer) }, "idle connections left open")
        #expect(try await eventually(timeout: .seconds(20)) { tricklers.allSatisfy { !$0.process.isRunning } }, "a trickling client was not cut off")
    }

    @Test("a body trickled a byte at a time gets 408 once the body timeout passes; a body that stops is cut off by the idle timeout")
    func slowBody() async throws {
        let (running, port, pki) = try await Self.start()
        defer { running.cancel(); try? FileManager.default.removeItem(at: pki.directory) }
        let client = try TLSClient(port: port)
        defer { client.stop() }
        client.send("POST /mutate HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        let trickle = Task {
            for _ in 0..<100 {
                client.send(" ")
                try await Task.sleep(for: .milliseconds(400))
            }
        }
        defer { trickle.cancel() }
        let reply = await client.reply()
        #expect(reply.hasPrefix("HTTP/1.1 408"), "\(reply)")
        #expect(reply.contains("did not arrive within"))

        let stalled = try TLSClient(port: port)
        defer { stalled.stop() }
        stalled.send("POST /mutate HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        #expect(await stalled.reply().isEmpty, "the connection is closed without a reply")
    }
}
