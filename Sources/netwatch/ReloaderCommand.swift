import KubeModel
import ArgumentParser
import CurlTransport
import Foundation
import Logging
import NetWatchAPI
import Operator

struct ReloaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reloader",
        abstract: "Reload Prometheus, Alertmanager or blackbox_exporter when its mounted configuration changes (a sidecar).",
        discussion: """
            Reads the --watch directories every --interval and compares their content (following \
            the symlinks of ConfigMap volumes, ignoring timestamps). When the content changed and \
            has settled for one interval, POSTs --reload-url once and verifies from the server's own \
            metrics that the reload succeeded; a rejected configuration is retried with backoff \
            until the content changes. The content at start is taken as already loaded. \
            Serves /healthz, /readyz and /metrics on --listen-address. Stops on SIGTERM or SIGINT.
            """
    )

    @Option(name: .customLong("watch"), help: "A directory to watch (repeatable).")
    var directories: [String] = []

    @Option(name: .customLong("reload-url"), help: "The server's reload endpoint, e.g. http://127.0.0.1:9090/-/reload.")
    var reloadURL: String

    @Option(help: "prometheus, alertmanager or blackbox_exporter: which metrics prove a reload.")
    var server: String = "prometheus"

    @Option(help: "How often to read the directories (Prometheus duration, e.g. 1s, 500ms).")
    var interval: String = "1s"

    @Option(name: .customLong("listen-address"), help: "Serve /healthz, /readyz and /metrics on HOST:PORT (\"off\" to disable).")
    var listenAddress: String = "0.0.0.0:8081"

    @Option(name: .customLong("log-format"), help: "json (one object per line, for log pipelines) or text.")
    var logFormat: String = "json"

    func run() async throws {
        try bootstrapLogging(logFormat)
        var logger = Logger(label: "netwatch-reloader")
        logger.logLevel = .info
        guard !directories.isEmpty else {
            printError("error: give at least one --watch DIR")
            throw ExitCodes.unusableInput
        }
        guard let kind = ReloadClient.Server(rawValue: server) else {
            printError("error: --server \(server): expected one of \(ReloadClient.Server.allCases.map(\.rawValue).joined(separator: ", "))")
            throw ExitCodes.unusableInput
        }
        let period: PrometheusDuration
        do {
            period = try PrometheusDuration(parsing: interval)
        } catch {
            printError("error: --interval \(error)")
            throw ExitCodes.unusableInput
        }
        guard period.milliseconds > 0 else {
            printError("error: --interval must be longer than 0")
            throw ExitCodes.unusableInput
        }
        let listen = try parseListenAddress(listenAddress, option: "--listen-address")
        let reloader = ConfigReloader(
            options: .init(directories: directories, reloadURL: reloadURL, server: kind, interval: .milliseconds(period.milliseconds), healthAddress: listen),
            transport: try CurlTransport(logger: logger), clock: ContinuousClock(), logger: logger)
        logger.info("watching", metadata: ["reload.directories": "\(directories)", "reload.url": "\(RedactedURL.redacted(reloadURL))", "reload.server": "\(kind.rawValue)"])
        try await runUntilSignalled(reloader, logger: logger)
    }
}
