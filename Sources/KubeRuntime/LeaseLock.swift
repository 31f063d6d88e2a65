import DataTree
import Foundation
public import KubeClient
import KubeModel
public import Logging

/// Runs `LeaderElector` against a Lease in the API server: the async shell that reads the
/// lease, writes the elector's decision with a resourceVersion precondition, and releases the
/// lease when its task is cancelled.
///
/// Guarantees: `isLeader` is true only from the start of an attempt whose write succeeded until
/// the renew deadline after it, so
/// writers gated on it stop before another replica can take over; a conflict (409) or any
/// error counts as a failed renewal.
public actor LeaseLock<C: Clock> where C.Duration == Duration {
    private let client: KubeClient
    private let namespace: String
    private let name: String
    private var elector: LeaderElector
    private let clock: C
    private let start: C.Instant
    private let logger: Logger
    private let wallClock: WallClock
    private var lastSeen: LeaseRecord?

    /// `clock` times expiry and renewal; `wallClock` stamps acquire and renew times.
    public init(client: KubeClient, namespace: String, name: String, elector: LeaderElector, clock: C, wallClock: WallClock = .system, logger: Logger) {
        self.client = client
        self.wallClock = wallClock
        self.namespace = namespace
        self.name = name
        self.elector = elector
        self.clock = clock
        start = clock.now
        self.logger = logger
    }

    public var isLeader: Bool { elector.isLeader(at: instant()) }

    /// Campaigns and renews every `retryPeriod` until cancelled, then releases if leading
    /// (`releaseOnExit: false` models a crash, for tests).
    public func run(releaseOnExit: Bool = true) async {
        while !Task.isCancelled {
            await attempt()
            try? await clock.sleep(for: elector.retryPeriod, tolerance: nil)
        }
        // The caller's task is cancelled; the release must still reach the server.
        if releaseOnExit { await Task { await self.release() }.value }
    }

    private func attempt() async {
        // Leadership is counted from before the read, not from when the answer was processed:
        // other candidates start their lease-duration wait when they see the write, which is
        // after this instant, so renewDeadline < leaseDuration keeps two leaders apart even when
        // this task is scheduled late after the server answered (seen under load in a test).
        let now = instant()
        do {
            let current = try await read()
            let decision = elector.decide(current: current, now: now, timestamp: wallClock.microTimestamp)
            switch decision {
            case .standBy: return
            case .create(let record):
                let written: Lease = try await client.create(Lease.self, .leases, namespace: namespace, object: node(record))
                elector.written(Self.record(written), now: now)
            case .update(let record):
                let written: Lease = try await client.replace(Lease.self, .leases, namespace: namespace, name: name, object: node(record))
                let wasLeader = current?.holderIdentity == elector.identity
                elector.written(Self.record(written), now: now)
                if !wasLeader { logger.info("became leader", metadata: ["lease.name": "\(namespace)/\(name)", "lease.holder": "\(elector.identity)"]) }
            }
        } catch {
            elector.writeFailed(now: now)
            logger.info("lease renewal failed", metadata: ["lease.name": "\(namespace)/\(name)", "error": "\(error)"])
        }
    }

    private func release() async {
        guard elector.isLeader(at: instant()), let current = try? await read(),
              let record = elector.release(current: current, timestamp: wallClock.microTimestamp) else { return }
        _ = try? await client.replace(Lease.self, .leases, namespace: namespace, name: name, object: node(record))
        logger.info("released leadership", metadata: ["lease.name": "\(namespace)/\(name)"])
    }

    private func read() async throws -> LeaseRecord? {
        do {
            return Self.record(try await client.get(Lease.self, .leases, namespace: namespace, name: name))
        } catch let error as APIError where error.isNotFound {
            return nil
        }
    }

    private func node(_ record: LeaseRecord) -> Node {
        var metadata = Mapping([("name", .string(name)), ("namespace", .string(namespace))])
        if let version = record.resourceVersion { metadata["resourceVersion"] = .string(version) }
        var spec = Mapping([("holderIdentity", .string(record.holderIdentity ?? "")), ("leaseDurationSeconds", .int(record.leaseDurationSeconds)), ("leaseTransitions", .int(record.leaseTransitions))])
        if let acquire = record.acquireTime { spec["acquireTime"] = .string(acquire) }
        if let renew = record.renewTime { spec["renewTime"] = .string(renew) }
        return ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": .mapping(metadata), "spec": .mapping(spec)]
    }

    static func record(_ lease: Lease) -> LeaseRecord {
        LeaseRecord(
            holderIdentity: lease.spec.holderIdentity, leaseDurationSeconds: lease.spec.leaseDurationSeconds ?? 15,
            acquireTime: lease.spec.acquireTime, renewTime: lease.spec.renewTime,
            leaseTransitions: lease.spec.leaseTransitions ?? 0, resourceVersion: lease.metadata.resourceVersion)
    }

    private func instant() -> RuntimeInstant { RuntimeInstant(start.duration(to: clock.now)) }
}
