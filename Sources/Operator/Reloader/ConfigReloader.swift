import KubeModel
import Foundation
public import KubeClient
public import KubeRuntime
public import Logging
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// `netwatch reloader`: the sidecar next to Prometheus or Alertmanager that reloads it when the
/// kubelet has synced new content into its mounted ConfigMaps (the role of
/// prometheus-config-reloader).
///
/// Guarantees: the directories are digested by content every `interval` (`DirectoryDigest`),
/// and `ReloadDecision` decides; each reload is verified from the server's own metrics
/// (`ReloadClient`), so a rejected configuration counts as a failure, is logged with the
/// server's message and retried with backoff until the content or the server changes. Time
/// enters only through the injected clock. Runs until its task is cancelled.
public final class ConfigReloader<C: Clock>: ServiceLifecycle.Service, Sendable where C.Duration == Duration {
    public struct Options: Sendable {
        public var directories: [String]
        public var reloadURL: String
        public var server: ReloadClient.Server
        public var interval: Duration
        /// Serve /healthz, /readyz and /metrics here (host, port); nil serves nothing.
        public var healthAddress: (host: String, port: Int)?

        /// Where the last-success timestamp comes from.
        public var wallClock: WallClock = .system

        public init(directories: [String], reloadURL: String, server: ReloadClient.Server = .prometheus, interval: Duration = .seconds(1), healthAddress: (host: String, port: Int)? = nil) {
            self.directories = directories
            self.reloadURL = reloadURL
            self.server = server
            self.interval = interval
            self.healthAddress = healthAddress
        }
    }

    let options: Options
    let client: ReloadClient
    let clock: C
    let start: C.Instant
    let logger: Logger
    let decision = Mutex(ReloadDecision())
    public let registry = PrometheusCollectorRegistry()
    let reloadsSucceeded: Counter
    let reloadsFailed: Counter
    let lastReloadSuccessful: Gauge
    let lastReloadSuccessTime: Gauge
    let watchedFiles: Gauge

    public init(options: Options, transport: any HTTPTransport, clock: C, logger: Logger) {
        self.options = options
        client = ReloadClient(transport: transport, server: options.server)
        self.clock = clock
        start = clock.now
        self.logger = logger
        let name = { (metric: String, unit: String, help: String) in
            MetricNameDescriptor(namespace: "netwatch_reloader", metricName: metric, unitName: unit, helpText: help)
        }
        let reloads = name("reloads", "total", "Reloads asked for, by result as verified from the server's own metrics.")
        reloadsSucceeded = registry.makeCounter(descriptor: reloads, labels: [("result", "success")])
        reloadsFailed = registry.makeCounter(descriptor: reloads, labels: [("result", "failure")])
        lastReloadSuccessful = registry.makeGauge(descriptor: name("last_reload_successful", "", "1 when the last reload succeeded (or none was needed yet), 0 when it failed."))
        lastReloadSuccessful.set(to: 1)
        lastReloadSuccessTime = registry.makeGauge(descriptor: name("last_reload_success_timestamp", "seconds", "Unix time of the last verified reload."))
        watchedFiles = registry.makeGauge(descriptor: name("watched_files", "", "Files under the watched directories."))
    }

    /// Whether the baseline digest has been taken.
    public var isReady: Bool { decision.withLock { $0.loaded != nil } }

    /// Runs until the calling task is cancelled or a graceful shutdown begins.
    public func run() async {
        await cancelWhenGracefulShutdown { await self.runUntilCancelled() }
    }

    private func runUntilCancelled() async {
        await withTaskGroup(of: Void.self) { group in
            if let address = options.healthAddress {
                group.addTask {
                    let server = HealthServer(
                        readiness: { self.isReady ? (true, "ready\n") : (false, "not ready: the watched directories have not been read yet\n") },
                        metrics: { self.registry.emitToBuffer() })
                    do {
                        try await server.run(host: address.host, port: address.port, logger: self.logger)
                    } catch {
                        self.logger.error("health and metrics server stopped", metadata: ["error": "\(error)"])
                    }
                }
            }
            group.addTask { await self.poll() }
            await group.next()
            group.cancelAll()
        }
    }

    private func poll() async {
        while !Task.isCancelled {
            let digest = DirectoryDigest.of(options.directories)
            watchedFiles.set(to: Double(digest.files))
            let step = decision.withLock { $0.observed(digest, now: instant()) }
            if case .reload(let target) = step {
                let outcome = await client.reload(options.reloadURL)
                decision.withLock { $0.reloaded(target, succeeded: outcome.succeeded, now: instant(), unit: Double.random(in: 0...1)) }
                (outcome.succeeded ? reloadsSucceeded : reloadsFailed).increment()
                lastReloadSuccessful.set(to: outcome.succeeded ? 1 : 0)
                if outcome.succeeded {
                    lastReloadSuccessTime.set(to: options.wallClock.now().timeIntervalSince1970)
                    logger.info("reloaded", metadata: ["reload.url": "\(RedactedURL.redacted(options.reloadURL))", "reload.digest": "\(target)", "reload.files": "\(target.files)"])
                } else {
                    logger.warning("reload failed; retrying with backoff", metadata: ["reload.url": "\(RedactedURL.redacted(options.reloadURL))", "reload.digest": "\(target)", "reload.message": "\(outcome.message)"])
                }
            }
            try? await clock.sleep(until: clock.now.advanced(by: options.interval), tolerance: nil)
        }
    }

    private func instant() -> RuntimeInstant { RuntimeInstant(start.duration(to: clock.now)) }
}
