import DataTree
import Foundation
import Logging

/// One JSON object per line on standard error: `time` (RFC 3339, UTC, milliseconds), `level`,
/// `logger`, `message`, then the metadata under its dotted keys in sorted order — what log
/// pipelines (Loki, Elasticsearch, Cloud Logging) parse without configuration.
///
/// Guarantee: a metadata key naming a credential (containing "token", "password", "secret",
/// "authorization" or "credential") never has its value written; it reads "[redacted]". The
/// code never logs credentials; this keeps a mistake from leaking one.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let sensitive = ["token", "password", "secret", "authorization", "credential"]

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        FileHandle.standardError.write(Data(Self.line(time: Date(), level: event.level, label: label, message: "\(event.message)", metadata: merged)))
    }

    static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        func field(_ key: String, _ write: (inout [UInt8]) -> Void) {
            out.append(out.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONEmitter.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            write(&out)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        field("time") { JSONEmitter.writeString(formatter.string(from: time), into: &$0) }
        field("level") { JSONEmitter.writeString(level.rawValue, into: &$0) }
        field("logger") { JSONEmitter.writeString(label, into: &$0) }
        field("message") { JSONEmitter.writeString(message, into: &$0) }
        for key in metadata.keys.sorted() where !["time", "level", "logger", "message"].contains(key) {
            let lowered = key.lowercased()
            let redacted = sensitive.contains { lowered.contains($0) }
            field(key) { redacted ? JSONEmitter.writeString("[redacted]", into: &$0) : write(metadata[key]!, into: &$0) }
        }
        out.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        return out
    }

    private static func write(_ value: Logger.Metadata.Value, into out: inout [UInt8]) {
        switch value {
        case .string(let string): JSONEmitter.writeString(string, into: &out)
        case .stringConvertible(let convertible): JSONEmitter.writeString(convertible.description, into: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            out.append(UInt8(ascii: "{"))
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONEmitter.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(dictionary[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// `--log-format` of the long-running commands.
enum LogFormat: String, CaseIterable {
    case json
    case text

    /// Installs the process-wide log handler (once, before any logger is made).
    func bootstrap() {
        switch self {
        case .json: LoggingSystem.bootstrap({ label, provider in JSONLogHandler(label: label, metadataProvider: provider) }, metadataProvider: nil)
        case .text: LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        }
    }
}

/// Parses `--log-format` and installs it; an unknown format exits with the usage error code.
func bootstrapLogging(_ format: String) throws {
    guard let parsed = LogFormat(rawValue: format) else {
        printError("error: --log-format \(format): expected one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        throw ExitCodes.unusableInput
    }
    parsed.bootstrap()
}
