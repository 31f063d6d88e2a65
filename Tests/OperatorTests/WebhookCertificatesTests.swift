import Foundation
import KubeTesting
import Operator
import Testing

@Suite("Webhook certificates made in Swift")
struct WebhookCertificatesTests {
    static func openssl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("openssl verifies the serving certificate against the CA for every Service name, and the key is the certificate's")
    func opensslAccepts() throws {
        let now = Date()
        let pair = try WebhookCertificates.issue(service: "netwatch-webhook", namespace: "netwatch-system", now: now)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-webhook-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, text) in pair.secretData { try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8) }
        let verified = try Self.openssl(["verify", "-CAfile", "\(directory)/ca.crt", "-purpose", "sslserver", "\(directory)/tls.crt"])
        #expect(verified.status == 0, "\(verified.output)")
        for name in WebhookCertificates.dnsNames(service: "netwatch-webhook", namespace: "netwatch-system") {
            let host = try Self.openssl(["verify", "-CAfile", "\(directory)/ca.crt", "-verify_hostname", name, "\(directory)/tls.crt"])
            #expect(host.status == 0, "\(name): \(host.output)")
        }
        #expect(try Self.openssl(["verify", "-CAfile", "\(directory)/ca.crt", "-verify_hostname", "other.netwatch-system.svc", "\(directory)/tls.crt"]).status != 0)
        let certificateKey = try Self.openssl(["x509", "-in", "\(directory)/tls.crt", "-noout", "-pubkey"]).output
        let privateKey = try Self.openssl(["pkey", "-in", "\(directory)/tls.key", "-pubout"]).output
        #expect(certificateKey == privateKey)
        // The CA is a CA; NIOSSL (the webhook server) loads the pair.
        #expect(try Self.openssl(["x509", "-in", "\(directory)/ca.crt", "-noout", "-ext", "basicConstraints"]).output.contains("CA:TRUE"))
        _ = try ServingCertificate(certificateFile: "\(directory)/tls.crt", keyFile: "\(directory)/tls.key")
    }

    @Test("renewal: kept while young, renewed at two thirds of its lifetime under the same CA, reissued when the CA is unusable or expiring")
    func decisions() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var pair = try WebhookCertificates.issue(service: "hook", namespace: "ns", now: now)
        #expect(pair.decision(service: "hook", namespace: "ns", now: now) == .keep)
        #expect(pair.decision(service: "hook", namespace: "ns", now: now.addingTimeInterval(59 * 86_400)) == .keep)
        #expect(pair.decision(service: "hook", namespace: "ns", now: now.addingTimeInterval(61 * 86_400)) == .renewServing)
        #expect(pair.decision(service: "other", namespace: "ns", now: now) == .renewServing)
        let ca = pair.caCertificatePEM
        try pair.renewServing(service: "hook", namespace: "ns", now: now.addingTimeInterval(61 * 86_400))
        #expect(pair.caCertificatePEM == ca)
        #expect(pair.decision(service: "hook", namespace: "ns", now: now.addingTimeInterval(61 * 86_400)) == .keep)
        #expect(pair.decision(service: "hook", namespace: "ns", now: now.addingTimeInterval(WebhookCertificates.caLifetime - 30 * 86_400)) == .reissue)
        var broken = pair
        broken.caKeyPEM = "not a key"
        #expect(broken.decision(service: "hook", namespace: "ns", now: now) == .reissue)
        var mismatched = pair
        mismatched.keyPEM = try WebhookCertificates.issue(service: "hook", namespace: "ns", now: now).keyPEM
        #expect(mismatched.decision(service: "hook", namespace: "ns", now: now) == .renewServing)
    }
}
