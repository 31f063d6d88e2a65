/// Exponential backoff with full jitter that resets after a healthy period — the watcher's
/// policy in kube-rs and client-go: 0.8 s doubling to 30 s, reset after 2 minutes without a
/// failure.
///
/// Guarantees: every delay is in `[0, cap]` where `cap` starts at `initial` and doubles per
/// consecutive failure up to `maximum`; a failure more than `resetAfter` after the last one
/// (or after `succeeded(at:)` with that much health) starts again at `initial`.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var resetAfter: Duration
    private var current: Duration?
    private var healthySince: RuntimeInstant?

    public init(initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), resetAfter: Duration = .seconds(120)) {
        self.initial = initial
        self.maximum = maximum
        self.resetAfter = resetAfter
    }

    /// The upper bound the next failure would draw from.
    public var nextCap: Duration { current.map { min($0 * 2, maximum) } ?? initial }

    /// Records that things worked at `now` (a watch event arrived, a list succeeded).
    public mutating func succeeded(at now: RuntimeInstant) {
        if healthySince == nil { healthySince = now }
        if let since = healthySince, now - since >= resetAfter { current = nil }
    }

    /// Records a failure at `now` and returns how long to wait; `unit` is a random number in
    /// [0, 1] (injected so tests are deterministic).
    public mutating func failed(at now: RuntimeInstant, unit: Double) -> Duration {
        if let since = healthySince, now - since >= resetAfter { current = nil }
        healthySince = nil
        let cap = nextCap
        current = cap
        return cap * max(0, min(1, unit))
    }
}
