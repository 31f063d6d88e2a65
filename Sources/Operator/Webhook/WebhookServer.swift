public import ConfigGen
import Foundation
import Hummingbird
import HummingbirdTLS
public import Logging
import NIOCore
public import Prometheus
public import ServiceLifecycle

/// The mutating admission webhook over HTTPS (hummingbird): `POST /mutate` takes an
/// AdmissionReview and answers with `AdmissionHandler`'s reply; `/healthz` for probes.
///
/// Guarantees: TLS 1.2 or later with the certificate `ServingCertificate` holds at the moment
/// of each handshake (re-read every `certificateCheckInterval`); a body that is not JSON gets
/// 415, a larger one than 3 MiB 413 (the API server's own request limit), a malformed review
/// 400; the handler is read per request, so new injectors apply without a restart. Slow or
/// idle clients cannot exhaust it (`Limits`): a connection that has not delivered a request
/// head within `limits.idleTimeout` of connecting (TLS handshake included) or of its last
/// response is closed, a body not received within `limits.bodyTimeout` gets 408, and past
/// `limits.maximumConnections` new connections wait in the listen backlog until one closes.
public struct WebhookServer: Sendable {
    /// Bounds on what one client can hold.
    public struct Limits: Sendable, Hashable {
        /// From connecting (or the last response) to a complete request head.
        public var idleTimeout: Duration
        /// From the request head to the end of its body.
        public var bodyTimeout: Duration
        /// Open connections; more wait to be accepted.
        public var maximumConnections: Int

        /// 3 s to handshake and send a request head (the API server sends at once; its
        /// budget for a webhook call defaults to 10 s, commonly set to 5 s), 5 s for a body,
        /// 256 connections (about 40 KB each with TLS).
        public static let standard = Limits(idleTimeout: .seconds(3), bodyTimeout: .seconds(5), maximumConnections: 256)

        public init(idleTimeout: Duration, bodyTimeout: Duration, maximumConnections: Int) {
            self.idleTimeout = idleTimeout
            self.bodyTimeout = bodyTimeout
            self.maximumConnections = maximumConnections
        }
    }

    public var host: String
    public var port: Int
    public var certificate: ServingCertificate
    public var certificateCheckInterval: Duration
    public var handler: @Sendable () -> AdmissionHandler
    public var metrics: WebhookMetrics
    public var logger: Logger
    public var limits: Limits

    public init(host: String, port: Int, certificate: ServingCertificate, certificateCheckInterval: Duration = .seconds(10),
                metrics: WebhookMetrics = WebhookMetrics(), limits: Limits = .standard, logger: Logger, handler: @escaping @Sendable () -> AdmissionHandler) {
        self.limits = limits
        self.host = host
        self.port = port
        self.certificate = certificate
        self.certificateCheckInterval = certificateCheckInterval
        self.handler = handler
        self.metrics = metrics
        self.logger = logger
    }

    static let maximumBody = 3 * 1024 * 1024

    /// Serves until cancelled; `onRunning` gets the bound port (useful with port 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let router = Router()
        let handler = self.handler
        let metrics = self.metrics
        let logger = self.logger
        let limits = self.limits
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        router.post("/mutate") { request, _ -> Response in
            let started = ContinuousClock.now
            let contentType = request.headers[.contentType] ?? ""
            guard contentType.hasPrefix("application/json") else {
                metrics.requests(outcome: "invalid").increment()
                return Self.plain(.unsupportedMediaType, "netwatch webhook: Content-Type must be application/json, not \(contentType.isEmpty ? "none" : contentType)\n")
            }
            let buffer: ByteBuffer
            switch await Self.collect(request.body, within: limits.bodyTimeout) {
            case .success(let collected):
                buffer = collected
            case .failure(.tooLarge):
                metrics.requests(outcome: "invalid").increment()
                return Self.plain(.contentTooLarge, "netwatch webhook: the body is larger than \(Self.maximumBody) bytes\n")
            case .failure(.timedOut):
                metrics.requests(outcome: "invalid").increment()
                return Self.plain(.requestTimeout, "netwatch webhook: the body did not arrive within \(limits.bodyTimeout)\n")
            }
            let reply = handler().handle(Array(buffer.readableBytesView))
            metrics.requests(outcome: reply.outcome).increment()
            metrics.duration.record(ContinuousClock.now - started)
            if reply.outcome == "invalid" {
                logger.warning("malformed AdmissionReview", metadata: ["webhook.problem": "\(reply.detail)"])
            } else {
                logger.debug("admission", metadata: ["webhook.outcome": "\(reply.outcome)", "webhook.detail": "\(reply.detail)"])
            }
            return Response(status: .init(code: reply.status), headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let application = Application(
            router: router,
            server: try .tls(.http1(configuration: .init(idleTimeout: Self.timeAmount(limits.idleTimeout))), tlsConfiguration: certificate.serverConfiguration()),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "netwatch-webhook",
                                                    availableConnectionsDelegate: .maximum(limits.maximumConnections, logger: quiet)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends quietly once the server has stopped (cancelled below).
                while !Task.isCancelled {
                    try? await Task.sleep(for: certificateCheckInterval)
                    if !Task.isCancelled { certificate.reload(logger: logger) }
                }
            }
            try await GracefulServer.run(application, logger: quiet)
            group.cancelAll()
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    enum BodyProblem: Error { case tooLarge, timedOut }

    /// The whole body, unless it is larger than `maximumBody` or slower than `timeout`.
    static func collect(_ body: RequestBody, within timeout: Duration) async -> Result<ByteBuffer, BodyProblem> {
        await withTaskGroup(of: Result<ByteBuffer, BodyProblem>?.self) { group in
            group.addTask {
                do { return .success(try await body.collect(upTo: maximumBody)) } catch { return Task.isCancelled ? nil : .failure(.tooLarge) }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .failure(.timedOut)
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                if let result = next { return result }
            }
            return .failure(.timedOut)
        }
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The webhook's metrics, in Istio's manner (`sidecar_injection_*`).
public final class WebhookMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let duration: DurationHistogram

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        duration = registry.makeDurationHistogram(
            descriptor: OperatorMetrics.name("webhook_duration", unit: "seconds", "Time to answer an AdmissionReview."),
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(100)])
    }

    func requests(outcome: String) -> Counter {
        registry.makeCounter(descriptor: OperatorMetrics.name("webhook_requests", unit: "total", "AdmissionReviews answered, by outcome: injected, skipped, unchanged, ignored (not a pod), invalid."),
                             labels: [("outcome", outcome)])
    }
}

extension WebhookServer: Service {
    /// Serves until a graceful shutdown (SIGTERM) or cancellation.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.run(onRunning: { _ in }) }
    }
}
