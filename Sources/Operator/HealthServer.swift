import Hummingbird
import Logging
import NIOCore

/// `/healthz`, `/readyz` and `/metrics` for the kubelet and Prometheus, shared by the operator
/// and the reloader sidecar.
///
/// `/healthz` answers 200 while the process serves; `/readyz` answers 200 when `readiness`
/// says ready and 503 otherwise, with its explanation as the body; `/metrics` serves the
/// Prometheus text exposition `metrics` produces at scrape time.
struct HealthServer: Sendable {
    var readiness: @Sendable () async -> (ready: Bool, explanation: String)
    var metrics: @Sendable () async -> [UInt8]

    func run(host: String, port: Int, logger: Logger) async throws {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let (ready, explanation) = await readiness()
            return Response(status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: explanation)))
        }
        router.get("/metrics") { _, _ -> Response in
            let bytes = await metrics()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        var quiet = logger
        quiet.logLevel = .warning
        let application = Application(router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "netwatch"), logger: quiet)
        try await GracefulServer.run(application, logger: quiet)
    }
}
