public import Logging

/// What a reconcile asks for next (controller-runtime's Result, kube-rs's Action).
public enum ReconcileResult: Sendable, Equatable {
    /// Done; run again only when something changes.
    case awaitChange
    /// Run again after this long even if nothing changes (e.g. to verify a reload).
    case requeue(after: Duration)
}

/// A reconcile failure. Retryable ones are retried with the key's exponential backoff;
/// terminal ones (invalid input that only a change can fix) wait for the next change.
public struct ReconcileError: Error, Sendable, CustomStringConvertible {
    public var terminal: Bool
    public var underlying: any Error

    public init(terminal: Bool, _ underlying: any Error) {
        self.terminal = terminal
        self.underlying = underlying
    }

    public var description: String { "\(terminal ? "terminal" : "retryable"): \(underlying)" }
}

/// Runs reconciles for keys from a `WorkQueue` with N workers.
///
/// Guarantees: a key is never reconciled by two workers at once; keys enqueued while waiting
/// are reconciled once; `requeue(after:)` and failures schedule the key with the earliest due
/// time winning; a success clears the key's failure backoff; errors that are not
/// `ReconcileError` count as retryable. Time comes from the injected clock.
public actor Controller<Key: Hashable & Sendable, C: Clock> where C.Duration == Duration {
    private var queue: WorkQueue<Key>
    private let clock: C
    private let start: C.Instant
    private let logger: Logger
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var timer: Task<Void, Never>?
    private var timerDue: RuntimeInstant?
    private var running = 0

    public init(clock: C, logger: Logger, queue: WorkQueue<Key> = WorkQueue()) {
        self.clock = clock
        start = clock.now
        self.logger = logger
        self.queue = queue
    }

    public var depth: Int { queue.depth }

    /// No reconcile is running and no key is due: what the controller was asked so far is done
    /// (keys requeued for later do not count). Tests wait on this instead of sleeping.
    public var isIdle: Bool {
        guard running == 0, queue.depth == 0 else { return false }
        guard let due = queue.nextDueTime else { return true }
        return due > instant()
    }

    public func enqueue(_ key: Key) {
        queue.add(key)
        wakeAll()
    }

    public func enqueue(_ key: Key, after delay: Duration) {
        queue.add(key, after: delay, now: instant())
        scheduleTimer()
        wakeAll()
    }

    /// Runs `workers` workers until the calling task is cancelled.
    public nonisolated func run(workers: Int, reconcile: @escaping @Sendable (Key) async throws -> ReconcileResult) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, workers) {
                group.addTask { await self.work(reconcile) }
            }
        }
    }

    private func work(_ reconcile: @Sendable (Key) async throws -> ReconcileResult) async {
        while !Task.isCancelled {
            guard let key = queue.next(now: instant()) else {
                scheduleTimer()
                await withTaskCancellationHandler {
                    await withCheckedContinuation { waiters.append($0) }
                } onCancel: {
                    Task { await self.wakeAll() }
                }
                continue
            }
            running += 1
            defer { running -= 1 }
            do {
                let result = try await reconcile(key)
                queue.forget(key)
                queue.done(key)
                if case .requeue(let delay) = result { queue.add(key, after: delay, now: instant()) }
            } catch let error as ReconcileError where error.terminal {
                logger.warning("reconcile failed; waiting for a change", metadata: ["reconcile.object": "\(key)", "error": "\(error)"])
                queue.forget(key)
                queue.done(key)
            } catch {
                let delay = queue.failed(key, now: instant())
                logger.info("reconcile failed; retrying", metadata: ["reconcile.object": "\(key)", "reconcile.retry_in": "\(delay)", "error": "\(error)"])
            }
            scheduleTimer()
            wakeAll()
        }
    }

    /// Keeps one timer for the earliest delayed key; it wakes the workers when that key is due.
    private func scheduleTimer() {
        guard let due = queue.nextDueTime else { return }
        if let timerDue, timerDue <= due, timer != nil { return }
        timer?.cancel()
        timerDue = due
        let deadline = start.advanced(by: due.sinceOrigin)
        let clock = self.clock
        timer = Task {
            try? await clock.sleep(until: deadline, tolerance: nil)
            if Task.isCancelled { return }
            self.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDue = nil
        wakeAll()
    }

    private func wakeAll() {
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.resume() }
    }

    private func instant() -> RuntimeInstant { RuntimeInstant(start.duration(to: clock.now)) }
}
