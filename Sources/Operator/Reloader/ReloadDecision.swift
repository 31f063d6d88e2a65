public import KubeRuntime

/// When the reloader sidecar reloads: a pure state machine fed with directory digests and
/// reload outcomes; time is passed in.
///
/// Guarantees:
/// - The first digest is the baseline the server started with: no reload.
/// - A reload is asked for only when the digest differs from the last one the server loaded
///   successfully *and* has been seen unchanged on two consecutive polls (the kubelet swaps a
///   volume atomically, but a config and its rules may arrive a poll apart: one reload for
///   both, not two).
/// - A failed reload is retried with backoff (0.8 s doubling to 30 s, jittered) while the
///   digest stays the same; a new digest retries at once (after settling).
/// - Going back to the loaded content asks for nothing.
public struct ReloadDecision: Sendable {
    public enum Step: Sendable, Equatable {
        case wait
        case reload(DirectoryDigest)
    }

    /// What the server has loaded (as far as we know): the baseline, then each verified reload.
    public private(set) var loaded: DirectoryDigest?
    private var lastSeen: DirectoryDigest?
    private var retryAt: RuntimeInstant?
    private var backoff = Backoff()

    public init() {}

    public mutating func observed(_ digest: DirectoryDigest, now: RuntimeInstant) -> Step {
        defer { lastSeen = digest }
        guard let loaded else {
            self.loaded = digest
            return .wait
        }
        if digest == loaded {
            retryAt = nil
            return .wait
        }
        guard digest == lastSeen else {
            retryAt = nil  // new content: settle one poll, then try at once
            return .wait
        }
        if let retryAt, now < retryAt { return .wait }
        return .reload(digest)
    }

    /// Records the outcome of the reload of `digest`; `unit` is a random number in [0, 1].
    public mutating func reloaded(_ digest: DirectoryDigest, succeeded: Bool, now: RuntimeInstant, unit: Double) {
        if succeeded {
            loaded = digest
            retryAt = nil
            backoff.succeeded(at: now)
        } else {
            retryAt = now + backoff.failed(at: now, unit: unit)
        }
    }
}
