/// The reconcile queue as a state machine (client-go's workqueue with its rate limiter).
///
/// Guarantees:
/// - De-duplication: a key added any number of times while waiting is handed out once.
/// - Per-key exclusivity: a key being processed is never handed out again until `done`; if it
///   was added meanwhile, it is queued again at `done`.
/// - Delayed adds: `add(_:after:now:)` keeps the earliest due time per key.
/// - Failure backoff per key: `failed` schedules the key after `base × 2^(n-1)` (capped), and
///   `forget` resets it after a success.
/// - Keys are handed out in the order they became ready.
public struct WorkQueue<Key: Hashable & Sendable>: Sendable {
    public var baseDelay: Duration
    public var maxDelay: Duration

    private var ready: [Key] = []
    private var readyStart = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var delayed: [Key: RuntimeInstant] = [:]
    private var failures: [Key: Int] = [:]

    public init(baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000)) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Keys waiting to be handed out now (not counting delayed ones).
    public var depth: Int { ready.count - readyStart }
    /// Keys scheduled for later.
    public var delayedCount: Int { delayed.count }
    /// When the earliest delayed key becomes due.
    public var nextDueTime: RuntimeInstant? { delayed.values.min() }

    public mutating func add(_ key: Key) {
        guard !dirty.contains(key) else { return }
        dirty.insert(key)
        delayed[key] = nil
        if !processing.contains(key) { ready.append(key) }
    }

    /// Adds `key` once `delay` has passed; an earlier schedule for the same key wins.
    public mutating func add(_ key: Key, after delay: Duration, now: RuntimeInstant) {
        guard delay > .zero else { add(key); return }
        guard !dirty.contains(key) else { return }
        let due = now + delay
        if let existing = delayed[key], existing <= due { return }
        delayed[key] = due
    }

    /// The next key to process, marking it as processing; nil when nothing is ready.
    public mutating func next(now: RuntimeInstant) -> Key? {
        promoteDue(now: now)
        guard readyStart < ready.count else { return nil }
        let key = ready[readyStart]
        readyStart += 1
        if readyStart > 1024 && readyStart * 2 > ready.count {
            ready.removeFirst(readyStart)
            readyStart = 0
        }
        dirty.remove(key)
        processing.insert(key)
        return key
    }

    /// Processing of `key` finished; a key added meanwhile becomes ready again.
    public mutating func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key) { ready.append(key) }
    }

    /// Processing failed: schedules a retry with this key's backoff and returns the delay.
    @discardableResult
    public mutating func failed(_ key: Key, now: RuntimeInstant) -> Duration {
        let count = (failures[key] ?? 0) + 1
        failures[key] = count
        let delay = Self.exponential(base: baseDelay, maximum: maxDelay, exponent: count - 1)
        done(key)
        add(key, after: delay, now: now)
        return delay
    }

    /// Clears the failure count of `key` (after a success).
    public mutating func forget(_ key: Key) { failures[key] = nil }

    public func failureCount(_ key: Key) -> Int { failures[key] ?? 0 }

    private mutating func promoteDue(now: RuntimeInstant) {
        guard !delayed.isEmpty else { return }
        let due = delayed.filter { $0.value <= now }.sorted { $0.value < $1.value }
        for (key, _) in due {
            delayed[key] = nil
            add(key)
        }
    }

    static func exponential(base: Duration, maximum: Duration, exponent: Int) -> Duration {
        var delay = base
        for _ in 0..<min(exponent, 62) {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }
}
