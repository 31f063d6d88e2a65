import Crypto
public import Foundation
import SwiftASN1
import X509

/// The webhook's own PKI, made in Swift (swift-certificates): a CA, and a serving certificate
/// it signs for the webhook Service's DNS names. The API server trusts the CA through the
/// `caBundle` of the MutatingWebhookConfiguration; the serving certificate is renewed long
/// before it expires (at two thirds of its lifetime, as cert-manager does), under the same CA,
/// so the caBundle stays valid and no request fails during a renewal.
///
/// Stored in a Secret as `ca.crt`, `ca.key`, `tls.crt` and `tls.key` (PEM).
public struct WebhookCertificates: Sendable, Equatable {
    public var caCertificatePEM: String
    public var caKeyPEM: String
    public var certificatePEM: String
    public var keyPEM: String

    public static let caLifetime: TimeInterval = 10 * 365 * 86_400
    public static let servingLifetime: TimeInterval = 90 * 86_400

    /// The Service's names the certificate covers: `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`.
    public static func dnsNames(service: String, namespace: String) -> [String] {
        [service, "\(service).\(namespace)", "\(service).\(namespace).svc", "\(service).\(namespace).svc.cluster.local"]
    }

    /// A new CA and serving certificate.
    public static func issue(service: String, namespace: String, now: Date) throws -> WebhookCertificates {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("netwatch")
            CommonName("netwatch webhook CA \(namespace)/\(service)")
        }
        let caPublic = Certificate.PublicKey(caKey.publicKey)
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caPublic,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(caLifetime),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caPublic)
            },
            issuerPrivateKey: .init(caKey))
        var pair = WebhookCertificates(caCertificatePEM: try ca.serializeAsPEM().pemString, caKeyPEM: caKey.pemRepresentation,
                                       certificatePEM: "", keyPEM: "")
        try pair.renewServing(service: service, namespace: namespace, now: now)
        return pair
    }

    /// Replaces the serving certificate and key with new ones signed by the same CA.
    public mutating func renewServing(service: String, namespace: String, now: Date) throws {
        let ca = try Certificate(pemEncoded: caCertificatePEM)
        let caKey = try P256.Signing.PrivateKey(pemRepresentation: caKeyPEM)
        let key = P256.Signing.PrivateKey()
        let names = Self.dnsNames(service: service, namespace: namespace)
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Self.servingLifetime),
            issuer: ca.subject, subject: try DistinguishedName { CommonName(names[2]) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names.map { .dnsName($0) })
                AuthorityKeyIdentifier(keyIdentifier: try ca.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(caKey))
        certificatePEM = try certificate.serializeAsPEM().pemString
        keyPEM = key.pemRepresentation
    }

    /// What to do with a stored pair at `now`.
    public enum Decision: Equatable, Sendable {
        case keep
        /// The serving certificate is past two thirds of its lifetime, or does not cover the names.
        case renewServing
        /// No usable CA (missing, unreadable, expiring within a serving lifetime): start over.
        case reissue
    }

    public func decision(service: String, namespace: String, now: Date) -> Decision {
        guard let ca = try? Certificate(pemEncoded: caCertificatePEM), (try? P256.Signing.PrivateKey(pemRepresentation: caKeyPEM)) != nil,
              ca.notValidAfter.timeIntervalSince(now) > Self.servingLifetime
        else { return .reissue }
        guard let leaf = try? Certificate(pemEncoded: certificatePEM), let key = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM),
              leaf.publicKey == Certificate.PublicKey(key.publicKey), leaf.issuer == ca.subject
        else { return .renewServing }
        let lifetime = leaf.notValidAfter.timeIntervalSince(leaf.notValidBefore)
        if now >= leaf.notValidBefore.addingTimeInterval(lifetime * 2 / 3) { return .renewServing }
        let covered = (try? leaf.extensions.subjectAlternativeNames).flatMap { $0 }?.compactMap { name -> String? in
            if case .dnsName(let dns) = name { return dns }
            return nil
        } ?? []
        return Set(covered).isSuperset(of: Self.dnsNames(service: service, namespace: namespace)) ? .keep : .renewServing
    }

    /// The Secret's data (base64 is the caller's job: these are the PEM texts).
    public var secretData: [(key: String, value: String)] {
        [("ca.crt", caCertificatePEM), ("ca.key", caKeyPEM), ("tls.crt", certificatePEM), ("tls.key", keyPEM)]
    }

    /// Reads the Secret's data; nil when a field is missing.
    public init?(secretData: [String: String]) {
        guard let ca = secretData["ca.crt"], let caKey = secretData["ca.key"], let certificate = secretData["tls.crt"], let key = secretData["tls.key"] else { return nil }
        self.init(caCertificatePEM: ca, caKeyPEM: caKey, certificatePEM: certificate, keyPEM: key)
    }

    public init(caCertificatePEM: String, caKeyPEM: String, certificatePEM: String, keyPEM: String) {
        self.caCertificatePEM = caCertificatePEM
        self.caKeyPEM = caKeyPEM
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }
}
