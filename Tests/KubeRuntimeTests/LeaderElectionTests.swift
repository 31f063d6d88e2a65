import KubeRuntime
import Testing

/// A lease store with the API server's conditional-update rule, for two candidates.
struct FakeLease {
    var record: LeaseRecord?
    var version = 0

    mutating func apply(_ decision: LeaderElector.Decision) -> LeaseRecord? {
        switch decision {
        case .standBy: return nil
        case .create(var new):
            guard record == nil else { return nil }  // AlreadyExists
            version += 1
            new.resourceVersion = String(version)
            record = new
            return new
        case .update(var new):
            guard let current = record, current.resourceVersion == new.resourceVersion else { return nil }  // 409
            version += 1
            new.resourceVersion = String(version)
            record = new
            return new
        }
    }
}

@Suite("Leader election")
struct LeaderElectionTests {
    /// One round for a candidate: read, decide, write; returns whether the write landed.
    @discardableResult
    func round(_ elector: inout LeaderElector, _ lease: inout FakeLease, now: RuntimeInstant) -> Bool {
        let decision = elector.decide(current: lease.record, now: now, timestamp: "t\(now.sinceOrigin)")
        if let written = lease.apply(decision) {
            elector.written(written, now: now)
            return true
        }
        if case .standBy = decision { return false }
        elector.writeFailed(now: now)
        return false
    }

    @Test("two candidates with one clock: exactly one leads at every moment; the other takes over only after the lease expires")
    func twoCandidates() {
        var a = LeaderElector(identity: "a")
        var b = LeaderElector(identity: "b")
        var lease = FakeLease()
        var now = RuntimeInstant.origin
        round(&a, &lease, now: now)
        round(&b, &lease, now: now)
        #expect(a.isLeader(at: now) && !b.isLeader(at: now))
        // a renews every 2 s for a minute; b stands by.
        for _ in 0..<30 {
            now = now + .seconds(2)
            round(&a, &lease, now: now)
            round(&b, &lease, now: now)
            #expect(a.isLeader(at: now) != b.isLeader(at: now))
            #expect(a.isLeader(at: now))
        }
        // a stops renewing (crashed or partitioned).
        var takeover: RuntimeInstant?
        for _ in 0..<20 {
            now = now + .seconds(2)
            if round(&b, &lease, now: now), takeover == nil { takeover = now }
            #expect(!(a.isLeader(at: now) && b.isLeader(at: now)), "never two leaders")
        }
        let lastRenewal = RuntimeInstant.origin + .seconds(60)
        #expect(takeover.map { $0 - lastRenewal >= .seconds(15) } == true, "b waited the lease duration: \(String(describing: takeover))")
        #expect(lease.record?.holderIdentity == "b")
        #expect(lease.record?.leaseTransitions == 1)
    }

    @Test("a leader whose renewals fail stops leading at the renew deadline, before the lease expires for others")
    func renewDeadline() {
        var a = LeaderElector(identity: "a")
        var lease = FakeLease()
        let start = RuntimeInstant.origin
        round(&a, &lease, now: start)
        #expect(a.isLeader(at: start + .seconds(9)))
        a.writeFailed(now: start + .seconds(2))
        #expect(!a.isLeader(at: start + .seconds(10)))
    }

    @Test("a 409 during renew (someone else wrote) is a failed write, not leadership")
    func conflictOnRenew() {
        var a = LeaderElector(identity: "a")
        var lease = FakeLease()
        round(&a, &lease, now: .origin)
        let stale = lease.record
        lease.record?.holderIdentity = "b"  // written by someone else between a's read and write
        lease.record?.resourceVersion = "999"
        let decision = a.decide(current: stale, now: .origin + .seconds(2), timestamp: "t2")
        #expect(lease.apply(decision) == nil, "the conditional update conflicts")
        a.writeFailed(now: .origin + .seconds(2))
        #expect(!a.isLeader(at: .origin + .seconds(10)))
    }

    @Test("release empties the holder with a 1 s duration and a successor acquires at once")
    func release() {
        var a = LeaderElector(identity: "a")
        var b = LeaderElector(identity: "b")
        var lease = FakeLease()
        round(&a, &lease, now: .origin)
        round(&b, &lease, now: .origin + .seconds(1))
        let released = a.release(current: lease.record, timestamp: "t")
        #expect(released?.holderIdentity == "" && released?.leaseDurationSeconds == 1)
        _ = lease.apply(.update(released!))
        #expect(!a.isLeader(at: .origin + .seconds(2)))
        #expect(round(&b, &lease, now: .origin + .seconds(3)))
        #expect(b.isLeader(at: .origin + .seconds(3)))
    }
}
