public import Foundation

/// Certificates for tests, made by the real `openssl`: a CA, a server certificate for
/// 127.0.0.1 (and any DNS names), a client certificate, and a second CA that signed nothing.
///
/// Files in `directory`: `ca.crt`/`ca.key`, `server.crt`/`server.key`, `client.crt`/`client.key`,
/// `other-ca.crt`/`other-ca.key`.
public struct TestPKI: Sendable {
    public let directory: URL
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    public static func make(serverNames: [String] = ["localhost"]) throws -> TestPKI {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let pki = TestPKI(directory: directory)
        try pki.makeCA("ca", subject: "/CN=netwatch-test-ca")
        try pki.issue("server", by: "ca", subject: "/CN=127.0.0.1",
                      extensions: "subjectAltName=IP:127.0.0.1,\(serverNames.map { "DNS:\($0)" }.joined(separator: ","))\nextendedKeyUsage=serverAuth")
        try pki.issue("client", by: "ca", subject: "/CN=netwatch/O=netwatch-operators", extensions: "extendedKeyUsage=clientAuth")
        try pki.makeCA("other-ca", subject: "/CN=other-ca")
        return pki
    }

    /// A self-signed CA: `<name>.crt` and `<name>.key`.
    public func makeCA(_ name: String, subject: String) throws {
        try openssl(["req", "-x509"] + Self.curve + ["-keyout", path("\(name).key"), "-out", path("\(name).crt"), "-days", "2", "-subj", subject])
    }

    /// A certificate signed by the CA `ca`: `<name>.crt` and `<name>.key`, with the given
    /// openssl extension lines.
    public func issue(_ name: String, by ca: String, subject: String, extensions: String) throws {
        try openssl(["req"] + Self.curve + ["-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
        try extensions.write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).crt"), "-CAkey", path("\(ca).key"), "-CAcreateserial",
                     "-out", path("\(name).crt"), "-days", "2", "-extfile", path("\(name).ext")])
    }

    func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestAPIServerError(message: "openssl \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))")
        }
    }
}
