import Foundation
public import Logging
import NIOCore
public import NIOSSL
import Synchronization
import SwiftASN1
import X509

/// A TLS serving certificate read from PEM files and re-read when they change, so a rotated
/// certificate (cert-manager, or netwatch's own rotation of a mounted Secret) is served from
/// the next handshake on without a restart and without dropping connections.
///
/// Secret volumes swap a `..data` symlink atomically, so the files' contents are compared, not
/// their modification times. A pair that does not load (half-written, key not matching) keeps
/// the previous certificate in use and is logged.
public final class ServingCertificate: Sendable {
    public let certificateFile: String
    public let keyFile: String
    private struct Loaded {
        var certificatePEM: [UInt8]
        var keyPEM: [UInt8]
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
    }
    private let current: Mutex<Loaded>
    /// The last pair that did not load, so it is reported once, not at every check.
    private let rejected = Mutex<[UInt8]?>(nil)

    /// Loads the pair; throws when it cannot be read or parsed.
    public init(certificateFile: String, keyFile: String) throws {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        current = Mutex(try Self.load(certificateFile: certificateFile, keyFile: keyFile))
    }

    private static func load(certificateFile: String, keyFile: String) throws -> Loaded {
        guard let certificate = FileManager.default.contents(atPath: certificateFile) else {
            throw ServingCertificateError(message: "cannot read the TLS certificate \(certificateFile)")
        }
        guard let key = FileManager.default.contents(atPath: keyFile) else {
            throw ServingCertificateError(message: "cannot read the TLS key \(keyFile)")
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes([UInt8](certificate))
            guard !chain.isEmpty else { throw ServingCertificateError(message: "\(certificateFile) holds no PEM certificate") }
            let privateKey = try NIOSSLPrivateKey(bytes: [UInt8](key), format: .pem)
            // A key that does not belong to the certificate would fail every handshake (a
            // rotation caught between writing the two files): refuse the pair.
            let text = String(decoding: certificate, as: UTF8.self)
            if let end = text.range(of: "-----END CERTIFICATE-----") {
                let leaf = try Certificate(pemEncoded: String(text[..<end.upperBound]))
                let signer = try Certificate.PrivateKey(pemEncoded: String(decoding: key, as: UTF8.self))
                guard leaf.publicKey == signer.publicKey else {
                    throw ServingCertificateError(message: "\(keyFile) is not the key of the certificate in \(certificateFile)")
                }
            }
            return Loaded(certificatePEM: [UInt8](certificate), keyPEM: [UInt8](key), chain: chain, key: privateKey)
        } catch let error as ServingCertificateError {
            throw error
        } catch {
            throw ServingCertificateError(message: "cannot parse \(certificateFile) / \(keyFile) as a PEM certificate and key: \(error)")
        }
    }

    /// Re-reads the files; true when a different certificate is now served.
    @discardableResult
    public func reload(logger: Logger) -> Bool {
        let certificate = FileManager.default.contents(atPath: certificateFile).map { [UInt8]($0) }
        let key = FileManager.default.contents(atPath: keyFile).map { [UInt8]($0) }
        let unchanged = current.withLock { $0.certificatePEM == certificate && $0.keyPEM == key }
        if unchanged { return false }
        let attempt = (certificate ?? []) + [0] + (key ?? [])
        if rejected.withLock({ $0 == attempt }) { return false }
        do {
            let loaded = try Self.load(certificateFile: certificateFile, keyFile: keyFile)
            current.withLock { $0 = loaded }
            logger.info("serving a new TLS certificate", metadata: ["tls.certificate": "\(certificateFile)"])
            return true
        } catch {
            rejected.withLock { $0 = attempt }
            logger.warning("the TLS certificate changed but does not load; still serving the previous one", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// A server configuration whose certificate is chosen per handshake from what is loaded now.
    /// The TLS 1.2 suites offered: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305, as
    /// the Mozilla "intermediate" profile and Go's defaults for this role.
    static let forwardSecretSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    public func serverConfiguration() -> TLSConfiguration {
        let loaded = current.withLock { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: loaded.chain.map { .certificate($0) }, privateKey: .privateKey(loaded.key))
        configuration.minimumTLSVersion = .tlsv12
        // TLS 1.2 with forward secrecy and AEAD only (TLS 1.3 suites always are).
        configuration.cipherSuites = Self.forwardSecretSuites
        configuration.sslContextCallback = { [self] _, promise in
            let now = current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = now.chain.map { .certificate($0) }
            override.privateKey = .privateKey(now.key)
            promise.succeed(override)
        }
        return configuration
    }
}

public struct ServingCertificateError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
