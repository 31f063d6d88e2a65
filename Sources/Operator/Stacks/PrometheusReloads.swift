import KubeClient
import KubeModel
import KubeRuntime
import Logging
import Prometheus
import Synchronization

/// Which MonitoringStacks' Prometheus must reload, where, and how each last reload went.
///
/// Guarantees: a stack is pending from the moment an output that needs a reload changed
/// (`Artifact.needsReload`) until a reload of it succeeded, or it no longer exists or has no
/// reload URL (e.g. Prometheus runs with `--config.auto-reload`); stacks are independent, so
/// one failing reload never holds back another.
final class PrometheusReloads: Sendable {
    private struct State {
        var pending: Set<ObjectReference> = []
        var outcomes: [ObjectReference: ReloadClient.Outcome] = [:]
        /// Each stack's `spec.prometheus.reload.url`, from the last full render.
        var urls: [ObjectReference: String] = [:]
    }

    private let state = Mutex(State())
    private let client: ReloadClient
    private let wallClock: WallClock
    private let logger: Logger
    private let metrics: OperatorMetrics

    init(client: ReloadClient, wallClock: WallClock, logger: Logger, metrics: OperatorMetrics) {
        self.client = client
        self.wallClock = wallClock
        self.logger = logger
        self.metrics = metrics
    }

    /// The reload URLs of the stacks that exist now; stacks gone stop being pending.
    func setURLs(_ urls: [ObjectReference: String]) {
        state.withLock { state in
            state.urls = urls
            state.pending = state.pending.filter { urls[$0] != nil }
        }
    }

    /// Marks stacks whose configuration changed; returns those that have a reload to run.
    func configurationChanged(_ stacks: Set<ObjectReference>) -> [ObjectReference] {
        state.withLock { state in
            let reloadable = stacks.filter { state.urls[$0] != nil }
            state.pending.formUnion(reloadable)
            return reloadable.sorted()
        }
    }

    func outcome(of stack: ObjectReference) -> ReloadClient.Outcome? {
        state.withLock { $0.outcomes[stack] }
    }

    /// Reloads `stack` if it is pending; nil when there was nothing to do.
    func reload(_ stack: ObjectReference) async -> ReloadClient.Outcome? {
        guard let url = state.withLock({ $0.pending.contains(stack) ? $0.urls[stack] : nil }) else { return nil }
        var outcome = await client.reload(url)
        outcome.time = wallClock.timestamp
        logger.info("prometheus reload", metadata: ["reload.stack": "\(stack.namespacedName)", "reload.succeeded": "\(outcome.succeeded)", "reload.message": "\(outcome.message)"])
        (outcome.succeeded ? metrics.reloadsSucceeded : metrics.reloadsFailed).increment()
        state.withLock { state in
            state.outcomes[stack] = outcome
            if outcome.succeeded { state.pending.remove(stack) }
        }
        return outcome
    }
}
