import KubeRuntime
import KubeTesting
import Testing

@Suite("Work queue")
struct WorkQueueTests {
    let t0 = RuntimeInstant.origin

    @Test("the same key added N times while idle is processed once")
    func deduplication() {
        var queue = WorkQueue<String>()
        for _ in 0..<5 { queue.add("ns/a") }
        queue.add("ns/b")
        #expect(queue.depth == 2)
        #expect(queue.next(now: t0) == "ns/a")
        #expect(queue.next(now: t0) == "ns/b")
        #expect(queue.next(now: t0) == nil)
    }

    @Test("a key added during processing is not handed out twice at once, and is processed again after done")
    func exclusivity() {
        var queue = WorkQueue<String>()
        queue.add("k")
        #expect(queue.next(now: t0) == "k")
        queue.add("k")
        queue.add("k")
        #expect(queue.next(now: t0) == nil, "k is being processed")
        queue.done("k")
        #expect(queue.next(now: t0) == "k")
        queue.done("k")
        #expect(queue.next(now: t0) == nil)
    }

    @Test("delayed adds: the earliest due time wins, and an immediate add overrides a delay")
    func delayedEarliestWins() {
        var queue = WorkQueue<String>()
        queue.add("k", after: .seconds(10), now: t0)
        queue.add("k", after: .seconds(3), now: t0)
        queue.add("k", after: .seconds(20), now: t0)
        #expect(queue.nextDueTime == t0 + .seconds(3))
        #expect(queue.next(now: t0 + .seconds(2)) == nil)
        #expect(queue.next(now: t0 + .seconds(3)) == "k")
        queue.done("k")
        queue.add("j", after: .seconds(5), now: t0)
        queue.add("j")
        #expect(queue.next(now: t0) == "j")
        #expect(queue.delayedCount == 0)
    }

    @Test("per-key failure backoff doubles to the cap and forget resets it")
    func failureBackoff() {
        var queue = WorkQueue<String>(baseDelay: .milliseconds(5), maxDelay: .seconds(1))
        queue.add("k")
        var now = t0
        var delays: [Duration] = []
        for _ in 0..<10 {
            guard let key = queue.next(now: now) else { Issue.record("k not due at \(now)"); return }
            delays.append(queue.failed(key, now: now))
            now = now + delays.last!
        }
        #expect(delays.prefix(4) == [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(40)])
        #expect(delays.last == .seconds(1))
        // Another key's backoff is its own.
        queue.add("other")
        let other = queue.next(now: now)
        #expect(other == "other" || other == "k")
        queue.forget("k")
        #expect(queue.failureCount("k") == 0)
    }

    @Test("property: under random operations a key is never handed out while processing, and every added key is eventually processed", arguments: 0..<30)
    func randomOperations(seed: UInt64) {
        var random = SplitMix(seed: seed)
        var queue = WorkQueue<Int>()
        var processing: Set<Int> = []
        var pending: Set<Int> = []
        var now = RuntimeInstant.origin
        for _ in 0..<500 {
            switch random.next() % 4 {
            case 0, 1:
                let key = Int(random.next() % 8)
                queue.add(key)
                pending.insert(key)
            case 2:
                if let key = queue.next(now: now) {
                    #expect(!processing.contains(key))
                    processing.insert(key)
                    pending.remove(key)
                }
            default:
                if let key = processing.randomElement(using: &random) {
                    processing.remove(key)
                    queue.done(key)
                }
            }
            now = now + .milliseconds(1)
        }
        for key in processing { queue.done(key) }
        var drained: Set<Int> = []
        while let key = queue.next(now: now) {
            drained.insert(key)
            queue.done(key)
        }
        #expect(pending.isSubset(of: drained))
    }
}

