import Logging
import ServiceLifecycle

/// Runs an HTTP server (a Hummingbird application) so that stopping it is always a graceful
/// shutdown: on the surrounding graceful shutdown and on task cancellation alike, it stops
/// accepting, finishes its requests and returns normally. Cancelled outright, Hummingbird
/// logs errors and throws `CancellationError`, which a normal stop must not show.
enum GracefulServer {
    static func run(_ server: some Service, logger: Logger) async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [server], logger: logger))
        // Not a child task: cancelling this task must reach the server as a graceful shutdown,
        // never as cancellation.
        let running = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await running.value
            } onGracefulShutdown: {
                Task { await group.triggerGracefulShutdown() }
            }
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }
}
