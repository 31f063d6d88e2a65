import KubeModel
import Foundation
public import KubeClient

/// Asks a Prometheus or Alertmanager to reload its configuration and checks that it did.
///
/// Guarantees: success is reported only when the server itself says so afterwards
/// (`<server>_config_last_reload_successful 1` with a
/// `<server>_config_last_reload_success_timestamp_seconds` not older than before the
/// request); otherwise the outcome carries the server's own message (e.g. the config error).
public struct ReloadClient: Sendable {
    /// Which server: it names the metrics that prove a reload.
    public enum Server: String, Sendable, CaseIterable {
        case prometheus
        case alertmanager
        /// blackbox_exporter, for the modules file NetworkProbes render.
        case blackboxExporter = "blackbox_exporter"

        var displayName: String {
            switch self {
            case .prometheus: "Prometheus"
            case .alertmanager: "Alertmanager"
            case .blackboxExporter: "blackbox_exporter"
            }
        }
    }

    public struct Outcome: Sendable, Equatable {
        public var succeeded: Bool
        public var message: String
        /// When the reload was verified (or given up), RFC 3339; set by the caller.
        public var time: String = ""
    }

    let transport: any HTTPTransport
    let server: Server

    public init(transport: any HTTPTransport, server: Server = .prometheus) {
        self.transport = transport
        self.server = server
    }

    /// POSTs `url` (…/-/reload) and verifies the result from the server's /metrics.
    public func reload(_ url: String) async -> Outcome {
        // The server's own metrics are next to its reload endpoint (query and fragment aside).
        let path = String(url.prefix { $0 != "?" && $0 != "#" })
        let base = path.hasSuffix("/-/reload") ? String(path.dropLast("/-/reload".count)) : path
        let prefix = "\(server.rawValue)_config_last_reload"
        let before = await metric(prefix + "_success_timestamp_seconds", base: base)
        let response: HTTPResponse
        do {
            response = try await transport.send(HTTPRequest(method: "POST", url: url, timeout: .seconds(30)))
        } catch {
            return Outcome(succeeded: false, message: "POST \(RedactedURL.redacted(url)): \(error)")
        }
        guard (200..<300).contains(response.head.status) else {
            let body = String(decoding: response.body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return Outcome(succeeded: false, message: "\(server.displayName) rejected the reload (HTTP \(response.head.status)): \(body)")
        }
        let successful = await metric(prefix + "_successful", base: base)
        let after = await metric(prefix + "_success_timestamp_seconds", base: base)
        guard successful == 1 else {
            return Outcome(succeeded: false, message: "\(server.displayName) reports the last reload failed (\(prefix)_successful \(successful.map { "\($0)" } ?? "missing"))")
        }
        if let before, let after, after < before {
            return Outcome(succeeded: false, message: "\(server.displayName) did not record a new successful reload")
        }
        return Outcome(succeeded: true, message: "\(server.displayName) reloaded the configuration")
    }

    /// The value of an unlabelled metric from `/metrics`, or nil.
    private func metric(_ name: String, base: String) async -> Double? {
        guard let response = try? await transport.send(HTTPRequest(method: "GET", url: base + "/metrics", timeout: .seconds(10))),
              response.head.status == 200 else { return nil }
        for line in String(decoding: response.body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}
