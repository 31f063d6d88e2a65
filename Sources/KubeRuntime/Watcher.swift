public import KubeClient

/// What a watcher tells its store, in the vocabulary of kube-rs's `watcher::Event`.
public enum WatcherEvent<Object: Sendable>: Sendable {
    /// A (re)list starts: the store begins a fresh buffer.
    case initStart
    /// Objects of the (re)list.
    case initApply([Object])
    /// The (re)list is complete: the store swaps in the buffer.
    case initDone
    case apply(Object)
    case delete(Object)
}

/// The list-then-watch loop as a state machine, after kube-rs's `watcher.rs`.
///
/// The driver asks `nextStep(now:)` what to do, does it, and reports the outcome; events for
/// the store come back from the report methods. Guarantees:
/// - Initial list, then a watch from the list's resourceVersion.
/// - A watch that the server closes normally is resumed from the last resourceVersion seen
///   (objects or bookmarks) with no relist — unless it closed within `minimumWatchDuration`
///   without any event, which counts as a failure (client-go's VeryShortWatch).
/// - 410 Expired/Gone (in the stream or at the start) forgets the resourceVersion and relists
///   from scratch (resourceVersion ""), never retrying the expired one.
/// - The server's history behind the client's — 504 with the cause ResourceVersionTooLarge on
///   a list or a watch, or an event older than the resourceVersion watched from — relists at
///   once with resourceVersion "" (a consistent read), as after an etcd restore. A server that
///   could not be reached is relisted at the last resourceVersion once it answers (client-go
///   re-watches instead, and misses a history replaced meanwhile).
/// - An event whose object cannot be decoded advances the resourceVersion; the store gets the
///   object's stand-in (`UnreadableStandIn`) when `Object` has one, else nothing.
/// - Other failures wait with `Backoff` (0.8 s → 30 s, jitter, reset after 2 min healthy),
///   at least the server's Retry-After, and retry the same step.
public struct Watcher<Object: Decodable & Sendable>: Sendable {
    public enum Step: Sendable, Equatable {
        /// List everything; `resourceVersion` "0" on the first list (any cached state will do),
        /// "" after an expiry (must be current).
        case list(resourceVersion: String)
        case watch(from: String)
        case wait(until: RuntimeInstant, then: Phase)
    }

    public enum Phase: Sendable, Equatable {
        case listing(resourceVersion: String)
        case watching(from: String)
    }

    public private(set) var phase: Phase = .listing(resourceVersion: "0")
    private var waitUntil: RuntimeInstant?
    private var backoff: Backoff
    private var watchStartedAt: RuntimeInstant?
    private var eventsInWatch = 0
    private let resourceVersion: @Sendable (Object) -> String?
    public var minimumWatchDuration: Duration = .seconds(1)
    /// The resource watched: what a stand-in for an unreadable object is when its bytes do not
    /// say. Without it, unreadable objects get no stand-in.
    public var resource: APIResource?

    /// Counters for the operator's metrics.
    public private(set) var relists = 0
    public private(set) var watchRestarts = 0
    /// Lists and watches that failed since the last list or event that succeeded: a kind that
    /// keeps failing is not in sync, whatever its cache holds.
    public private(set) var consecutiveFailures = 0

    public init(backoff: Backoff = Backoff(), resourceVersion: @escaping @Sendable (Object) -> String?) {
        self.backoff = backoff
        self.resourceVersion = resourceVersion
    }

    /// The next thing the driver should do.
    public func nextStep(now: RuntimeInstant) -> Step {
        if let waitUntil, now < waitUntil { return .wait(until: waitUntil, then: phase) }
        switch phase {
        case .listing(let version): return .list(resourceVersion: version)
        case .watching(let version): return .watch(from: version)
        }
    }

    // MARK: list outcomes

    /// The list succeeded: the store gets the whole state; the watch starts from `resourceVersion`.
    public mutating func listed(_ items: [Object], resourceVersion: String, now: RuntimeInstant) -> [WatcherEvent<Object>] {
        waitUntil = nil
        backoff.succeeded(at: now)
        consecutiveFailures = 0
        phase = .watching(from: resourceVersion)
        return [.initStart, .initApply(items), .initDone]
    }

    public mutating func listFailed(_ error: any Error, now: RuntimeInstant, unit: Double) {
        consecutiveFailures += 1
        if let apiError = error as? APIError, apiError.isResourceVersionTooLarge {
            // client-go relists at "" immediately: only the current state can be trusted.
            phase = .listing(resourceVersion: "")
            waitUntil = nil
            return
        }
        if let apiError = error as? APIError, apiError.isExpired {
            phase = .listing(resourceVersion: "")
        }
        wait(after: error, now: now, unit: unit)
    }

    // MARK: watch outcomes

    public mutating func watchStarted(now: RuntimeInstant) {
        waitUntil = nil
        watchStartedAt = now
        eventsInWatch = 0
    }

    public mutating func received(_ event: WatchEvent<Object>, now: RuntimeInstant) -> [WatcherEvent<Object>] {
        eventsInWatch += 1
        backoff.succeeded(at: now)
        consecutiveFailures = 0
        switch event {
        case .added(let object), .modified(let object):
            advance(to: resourceVersion(object))
            return [.apply(object)]
        case .deleted(let object):
            advance(to: resourceVersion(object))
            return [.delete(object)]
        case .bookmark(let version, _):
            advance(to: version)
            return []
        case .unreadable(let object, let deleted):
            // Past it, whatever it is: one object that cannot be read never stalls its kind.
            advance(to: object.resourceVersion)
            guard let resource, let standIn = object.standIn(as: Object.self, resource: resource) else { return [] }
            return [deleted ? .delete(standIn) : .apply(standIn)]
        }
    }

    /// The server ended the stream without an error (its timeout, or a dropped connection).
    public mutating func watchEnded(now: RuntimeInstant, unit: Double) {
        watchRestarts += 1
        let lasted = watchStartedAt.map { now - $0 } ?? .zero
        if eventsInWatch == 0 && lasted < minimumWatchDuration {
            wait(after: nil, now: now, unit: unit)
        }
    }

    /// The watch failed to start or failed mid-stream.
    public mutating func watchFailed(_ error: any Error, now: RuntimeInstant, unit: Double) {
        watchRestarts += 1
        consecutiveFailures += 1
        if let apiError = error as? APIError, apiError.isExpired || apiError.isResourceVersionTooLarge {
            relists += 1
            phase = .listing(resourceVersion: "")
            waitUntil = nil
            return
        }
        if let transport = error as? TransportError, transport.kind == .couldNotConnect, case .watching(let version) = phase {
            // The server went away: it may come back with another history (restarted from a
            // backup, or an etcd restore), and a watch cannot tell. A list at the last
            // resourceVersion can: it answers the current state, or ResourceVersionTooLarge.
            relists += 1
            phase = .listing(resourceVersion: version)
        }
        wait(after: error, now: now, unit: unit)
    }

    /// Whether the last event showed the server's history going backwards; the driver ends the
    /// watch and relists (`phase` is already `.listing("")`).
    public var mustRelist: Bool {
        if case .listing = phase { return true }
        return false
    }

    private mutating func advance(to version: String?) {
        guard let version, !version.isEmpty else { return }
        // resourceVersions are opaque, but every API server in use sends increasing integers;
        // one lower than where the watch stands means the history was replaced.
        if case .watching(let current) = phase, let old = Int(current), let new = Int(version), new < old {
            relists += 1
            phase = .listing(resourceVersion: "")
            return
        }
        phase = .watching(from: version)
    }

    private mutating func wait(after error: (any Error)?, now: RuntimeInstant, unit: Double) {
        var delay = backoff.failed(at: now, unit: unit)
        if let retryAfter = (error as? APIError)?.retryAfterSeconds {
            delay = max(delay, .seconds(retryAfter))
        }
        waitUntil = now + delay
    }
}
