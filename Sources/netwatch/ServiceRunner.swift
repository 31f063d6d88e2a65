import Foundation
import Logging
import NetWatchAPI
import ServiceLifecycle
import UnixSignals

/// Runs a long-running command's service in a swift-service-lifecycle `ServiceGroup`: SIGTERM
/// and SIGINT begin a graceful shutdown (the service stops its work, releases its lease and
/// returns), so the process exits 0.
func runUntilSignalled(_ service: any Service, logger: Logger) async throws {
    let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    try await group.run()
    logger.info("stopped")
}

/// `HOST:PORT`, or nil for "off"; a malformed value exits with the usage error code.
func parseListenAddress(_ value: String, option: String) throws -> (host: String, port: Int)? {
    if value == "off" { return nil }
    guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]), (0...65535).contains(port) else {
        printError("error: \(option) \(value): expected HOST:PORT or off")
        throw ExitCodes.unusableInput
    }
    return (String(value[..<colon]), port)
}

/// A Prometheus duration option (`30s`, `1h30m`); a malformed value exits with the usage error code.
func parseDurationOption(_ value: String, option: String) throws -> PrometheusDuration {
    do {
        return try PrometheusDuration(parsing: value)
    } catch {
        printError("error: \(option) \(error)")
        throw ExitCodes.unusableInput
    }
}

/// Returns when SIGTERM or SIGINT arrives.
func waitForSignal() async {
    let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
    for await _ in signals { return }
}
