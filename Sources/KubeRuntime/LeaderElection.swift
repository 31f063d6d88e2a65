/// What a `coordination.k8s.io/v1` Lease says, as leader election reads and writes it.
public struct LeaseRecord: Sendable, Hashable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int
    public var acquireTime: String?
    public var renewTime: String?
    public var leaseTransitions: Int
    /// For the conditional update; nil for a lease not yet created.
    public var resourceVersion: String?

    public init(holderIdentity: String?, leaseDurationSeconds: Int, acquireTime: String? = nil, renewTime: String? = nil, leaseTransitions: Int = 0, resourceVersion: String? = nil) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
        self.resourceVersion = resourceVersion
    }
}

/// Leader election on a Lease, as client-go's leaderelection does it, as a state machine.
///
/// Guarantees (with the API server's conditional updates, which make two writers conflict):
/// - A candidate takes a lease only when it does not exist, or when the record it observed has
///   not changed for `leaseDuration` of *its own* clock (no trust in other hosts' clocks).
/// - A leader that has not renewed successfully for `renewDeadline` stops leading, before the
///   lease can expire for others (renewDeadline < leaseDuration).
/// - `release` writes an empty holder with a 1 s duration so a successor need not wait.
public struct LeaderElector: Sendable {
    public enum Decision: Sendable, Equatable {
        /// Create the lease with this record.
        case create(LeaseRecord)
        /// Update the lease with this record (conditional on `record.resourceVersion`).
        case update(LeaseRecord)
        /// Someone else holds a live lease: look again at this time.
        case standBy(until: RuntimeInstant)
    }

    public let identity: String
    public var leaseDuration: Duration
    public var renewDeadline: Duration
    public var retryPeriod: Duration

    private var observed: LeaseRecord?
    private var observedAt: RuntimeInstant?
    private var lastRenewal: RuntimeInstant?

    public init(identity: String, leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// Leading now: the last successful renewal is within `renewDeadline`.
    public func isLeader(at now: RuntimeInstant) -> Bool {
        guard let lastRenewal else { return false }
        return now - lastRenewal < renewDeadline
    }

    /// Given the lease as just read (nil: it does not exist), what to do.
    public mutating func decide(current: LeaseRecord?, now: RuntimeInstant, timestamp: String) -> Decision {
        guard let current else {
            return .create(LeaseRecord(holderIdentity: identity, leaseDurationSeconds: Int(leaseDuration.components.seconds), acquireTime: timestamp, renewTime: timestamp))
        }
        if current != observed {
            observed = current
            observedAt = now
        }
        let heldByMe = current.holderIdentity == identity
        let holderEmpty = current.holderIdentity?.isEmpty ?? true
        if !heldByMe && !holderEmpty, let observedAt, now - observedAt < .seconds(current.leaseDurationSeconds) {
            return .standBy(until: now + retryPeriod)
        }
        var record = current
        record.leaseDurationSeconds = Int(leaseDuration.components.seconds)
        record.renewTime = timestamp
        if !heldByMe {
            record.holderIdentity = identity
            record.acquireTime = timestamp
            record.leaseTransitions = current.leaseTransitions + 1
        }
        return .update(record)
    }

    /// The create or update was accepted.
    public mutating func written(_ record: LeaseRecord, now: RuntimeInstant) {
        observed = record
        observedAt = now
        lastRenewal = now
    }

    /// The write failed (409 conflict, timeout …): leadership, if held, lapses at the renew deadline.
    public mutating func writeFailed(now: RuntimeInstant) {
        observed = nil
    }

    /// The record that gives the lease up (on shutdown), if this candidate holds it.
    public mutating func release(current: LeaseRecord?, timestamp: String) -> LeaseRecord? {
        guard var record = current, record.holderIdentity == identity else { return nil }
        lastRenewal = nil
        record.holderIdentity = ""
        record.leaseDurationSeconds = 1
        record.renewTime = timestamp
        return record
    }
}
