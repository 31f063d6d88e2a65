import Foundation
import KubeClient

/// Asks a Prometheus to reload its configuration and checks that it did.
///
/// Guarantees: success is reported only when Prometheus itself says so afterwards
/// (`prometheus_config_last_reload_successful 1` with a newer
/// `prometheus_config_last_reload_success_timestamp_seconds` than before the request);
/// otherwise the outcome carries Prometheus's own message (e.g. the config error).
struct PrometheusReloader: Sendable {
    struct Outcome: Sendable, Equatable {
        var succeeded: Bool
        var message: String
        /// When the reload was verified (or given up), RFC 3339.
        var time: String = ""
    }

    let transport: any HTTPTransport

    func reload(_ url: String) async -> Outcome {
        let base = url.hasSuffix("/-/reload") ? String(url.dropLast("/-/reload".count)) : url
        let before = await metric("prometheus_config_last_reload_success_timestamp_seconds", base: base)
        let response: HTTPResponse
        do {
            response = try await transport.send(HTTPRequest(method: "POST", url: url, timeout: .seconds(30)))
        } catch {
            return Outcome(succeeded: false, message: "POST \(url): \(error)")
        }
        guard (200..<300).contains(response.head.status) else {
            let body = String(decoding: response.body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return Outcome(succeeded: false, message: "Prometheus rejected the reload (HTTP \(response.head.status)): \(body)")
        }
        let successful = await metric("prometheus_config_last_reload_successful", base: base)
        let after = await metric("prometheus_config_last_reload_success_timestamp_seconds", base: base)
        guard successful == 1 else {
            return Outcome(succeeded: false, message: "Prometheus reports the last reload failed (prometheus_config_last_reload_successful \(successful.map { "\($0)" } ?? "missing"))")
        }
        if let before, let after, after < before {
            return Outcome(succeeded: false, message: "Prometheus did not record a new successful reload")
        }
        return Outcome(succeeded: true, message: "Prometheus reloaded the configuration")
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
