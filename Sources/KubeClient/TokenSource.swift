import Foundation

/// Supplies the `Authorization` header and keeps it fresh.
///
/// Token files are re-read at most every `fileCacheSeconds` (client-go: 60 s) and after
/// `invalidate()`, which the client calls on a 401, so rotated projected tokens work. Exec
/// plugin tokens are cached until their `expirationTimestamp` (or until a 401).
actor TokenSource {
    private let credentials: Credentials
    private let fileCacheSeconds: Double
    private var cached: (header: String, validUntil: Date?)?

    init(credentials: Credentials, fileCacheSeconds: Double = 60) {
        self.credentials = credentials
        self.fileCacheSeconds = fileCacheSeconds
    }

    func invalidate() { cached = nil }

    func authorization() throws -> String? {
        if let cached, cached.validUntil.map({ $0 > Date() }) ?? true { return cached.header }
        switch credentials {
        case .none: return nil
        case .bearerToken(let token): return "Bearer \(token)"
        case .basic(let username, let password):
            return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        case .tokenFile(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError(file: path, field: nil, message: "cannot read the bearer token file")
            }
            let header = "Bearer \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
            cached = (header, Date().addingTimeInterval(fileCacheSeconds))
            return header
        case .exec(let plugin):
            let (token, expiry) = try runExecPlugin(plugin)
            let header = "Bearer \(token)"
            cached = (header, expiry)
            return header
        }
    }

    /// Runs a client-go exec credential plugin and reads `status.token` and
    /// `status.expirationTimestamp` from the ExecCredential it prints.
    private func runExecPlugin(_ plugin: ExecCredentialPlugin) throws -> (String, Date?) {
        let process = Process()
        if plugin.command.contains("/") {
            process.executableURL = URL(fileURLWithPath: plugin.command)
            process.arguments = plugin.arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [plugin.command] + plugin.arguments
        }
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in plugin.environment { environment[name] = value }
        environment["KUBERNETES_EXEC_INFO"] = #"{"apiVersion":"\#(plugin.apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let failure = { (message: String) in ConfigurationError(file: plugin.source, field: "exec.command", message: "credential plugin \(plugin.command): \(message)") }
        do { try process.run() } catch { throw failure("cannot start: \(error.localizedDescription)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw failure("exited with status \(process.terminationStatus): \(String(decoding: stderr.prefix(500), as: UTF8.self))")
        }
        struct ExecCredential: Decodable {
            struct Status: Decodable {
                var token: String?
                var expirationTimestamp: String?
            }
            var status: Status?
        }
        guard let credential = try? JSONDecoder().decode(ExecCredential.self, from: data), let token = credential.status?.token, !token.isEmpty else {
            throw failure("did not print an ExecCredential with status.token (client certificates from plugins are not supported)")
        }
        let expiry = credential.status?.expirationTimestamp.flatMap { ISO8601DateFormatter().date(from: $0) }
        return (token, expiry)
    }
}
