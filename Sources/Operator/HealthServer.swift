import Hummingbird
import Logging
import NIOCore
import Prometheus

/// `/healthz`, `/readyz` and `/metrics` for the kubelet and Prometheus.
///
/// `/readyz` answers 200 once every watched kind has completed its first list (so a replica
/// that cannot reach the API server is taken out of Service endpoints), 503 before; its body
/// says whether this replica leads.
struct HealthServer {
    let netwatch: NetwatchOperator

    func run(host: String, port: Int, logger: Logger) async throws {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let (ready, leading) = await netwatch.readiness()
            let body = "\(ready ? "ready" : "not ready: waiting for the first list of every watched kind")\nleader: \(leading)\n"
            return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/metrics") { _, _ -> Response in
            await netwatch.updateScrapeTimeMetrics()
            let bytes = netwatch.metrics.registry.emitToBuffer()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        var quiet = logger
        quiet.logLevel = .warning
        let application = Application(router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "netwatch"), logger: quiet)
        try await application.runService(gracefulShutdownSignals: [])
    }
}
