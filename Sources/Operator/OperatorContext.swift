import KubeClient
import KubeRuntime
import Logging
import Prometheus

/// What every reconciler shares: the API client, the options, the cache it reads, the lease
/// that says whether it may write, and the writers of status and Events. Reconcilers own
/// their state; this holds nothing that one of them changes.
struct OperatorContext: Sendable {
    let client: KubeClient
    let options: NetwatchOperator.Options
    let logger: Logger
    let metrics: OperatorMetrics
    let cache: ClusterCache
    let lease: LeaseLock<ContinuousClock>?
    let status: StatusWriter
    let events: EventRecorder

    /// Whether this replica may write: it holds the lease, or runs without leader election.
    var isLeading: Bool {
        get async { await lease?.isLeader ?? true }
    }

    /// Runs `controller` with one worker, counting reconciles, their errors and durations in
    /// the operator's metrics.
    func run<Key: Hashable & Sendable>(_ controller: Controller<Key, ContinuousClock>, _ reconcile: @escaping @Sendable (Key) async throws -> ReconcileResult) async {
        let metrics = self.metrics
        await controller.run(workers: 1) { key in
            let started = ContinuousClock.now
            metrics.reconciles.increment()
            defer { metrics.reconcileDuration.record(ContinuousClock.now - started) }
            do {
                return try await reconcile(key)
            } catch {
                metrics.reconcileErrors.increment()
                throw error
            }
        }
    }
}
