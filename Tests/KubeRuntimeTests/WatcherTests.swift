import KubeClient
import KubeRuntime
import Testing

struct Item: Sendable, Equatable, Decodable {
    var name: String
    var version: String
}

func makeWatcher() -> Watcher<Item> { Watcher<Item>(resourceVersion: { $0.version }) }
func makeStore() -> ObjectStore<Item> { ObjectStore<Item>(key: { $0.name }, version: { $0.version }) }

func expired() -> APIError {
    var status = Status(message: "too old resource version", reason: "Expired", code: 410)
    status.status = "Failure"
    return APIError(verb: "watch", resource: nil, namespace: nil, name: nil, code: 410, status: status)
}

func tooLarge() -> APIError {
    let status = Status(message: "Timeout: Too large resource version: 20, current: 10", reason: "Timeout", code: 504)
    return APIError(verb: "watch", resource: nil, namespace: nil, name: nil, code: 504, status: status)
}

@Suite("Watcher state machine and store")
struct WatcherTests {
    @Test("a server whose history is behind (ResourceVersionTooLarge on a watch or a list, or an event older than the watch) is relisted at once with resourceVersion \"\"")
    func historyWentBack() {
        let now = RuntimeInstant.origin
        var watcher = makeWatcher()
        _ = watcher.listed([Item(name: "a", version: "5")], resourceVersion: "20", now: now)
        watcher.watchStarted(now: now)
        watcher.watchFailed(tooLarge(), now: now, unit: 1)
        #expect(watcher.nextStep(now: now) == .list(resourceVersion: ""), "no backoff, a consistent read")
        watcher.listFailed(tooLarge(), now: now, unit: 1)
        #expect(watcher.nextStep(now: now) == .list(resourceVersion: ""))

        _ = watcher.listed([Item(name: "a", version: "5")], resourceVersion: "20", now: now)
        watcher.watchStarted(now: now)
        _ = watcher.received(.modified(Item(name: "a", version: "21")), now: now)
        #expect(!watcher.mustRelist)
        _ = watcher.received(.added(Item(name: "b", version: "7")), now: now)
        #expect(watcher.mustRelist && watcher.nextStep(now: now) == .list(resourceVersion: ""))
        #expect(watcher.relists == 2)
    }

    @Test("list, watch, resume after a normal close from the last resourceVersion without relisting")
    func resumeWithoutRelist() {
        var watcher = makeWatcher()
        var store = makeStore()
        var now = RuntimeInstant.origin
        #expect(watcher.nextStep(now: now) == .list(resourceVersion: "0"))
        for event in watcher.listed([Item(name: "a", version: "5")], resourceVersion: "10", now: now) { _ = store.apply(event) }
        #expect(store.isReady && store.count == 1)
        #expect(watcher.nextStep(now: now) == .watch(from: "10"))
        watcher.watchStarted(now: now)
        for event in watcher.received(.added(Item(name: "b", version: "11")), now: now) { _ = store.apply(event) }
        _ = watcher.received(.bookmark(resourceVersion: "15", initialEventsEnd: false), now: now)
        now = now + .seconds(290)
        watcher.watchEnded(now: now, unit: 1)
        #expect(watcher.nextStep(now: now) == .watch(from: "15"), "resume from the bookmark at once, no list")
        #expect(watcher.relists == 0)
    }

    @Test("a watch closed within a second with no events backs off instead of spinning")
    func veryShortWatch() {
        var watcher = makeWatcher()
        let now = RuntimeInstant.origin
        _ = watcher.listed([], resourceVersion: "3", now: now)
        watcher.watchStarted(now: now)
        watcher.watchEnded(now: now + .milliseconds(100), unit: 1)
        #expect(watcher.nextStep(now: now + .milliseconds(200)) == .wait(until: now + .milliseconds(900), then: .watching(from: "3")))
        #expect(watcher.nextStep(now: now + .milliseconds(900)) == .watch(from: "3"))
    }

    @Test("410 relists from scratch; the store swaps atomically and reports what vanished meanwhile as deleted")
    func goneRelists() {
        var watcher = makeWatcher()
        var store = makeStore()
        let now = RuntimeInstant.origin
        for event in watcher.listed([Item(name: "a", version: "1"), Item(name: "b", version: "2"), Item(name: "c", version: "3")], resourceVersion: "3", now: now) { _ = store.apply(event) }
        watcher.watchStarted(now: now)
        watcher.watchFailed(expired(), now: now + .seconds(5), unit: 1)
        #expect(watcher.nextStep(now: now + .seconds(5)) == .list(resourceVersion: ""), "never the expired version again")
        #expect(watcher.relists == 1)

        // While the watch was down: b deleted, c changed, d created.
        let events = watcher.listed([Item(name: "a", version: "1"), Item(name: "c", version: "9"), Item(name: "d", version: "8")], resourceVersion: "9", now: now + .seconds(6))
        var changes: [String] = []
        for (index, event) in events.enumerated() {
            let visible = store.apply(event)
            if index < events.count - 1 {
                #expect(store["b"] != nil && store["d"] == nil, "readers see the old state until initDone")
            }
            for change in visible {
                switch change {
                case .added(let item): changes.append("added \(item.name)")
                case .updated(_, let item): changes.append("updated \(item.name)")
                case .deleted(let item): changes.append("deleted \(item.name)")
                }
            }
        }
        #expect(changes == ["deleted b", "updated c", "added d"], "a is unchanged and triggers nothing")
        #expect(store.count == 3)
        #expect(watcher.nextStep(now: now + .seconds(6)) == .watch(from: "9"))
    }

    @Test("429 waits at least Retry-After; repeated failures back off exponentially and a healthy period resets it")
    func throttledAndFailing() {
        var watcher = makeWatcher()
        var now = RuntimeInstant.origin
        _ = watcher.listed([], resourceVersion: "1", now: now)
        let throttled = APIError(verb: "watch", resource: nil, namespace: nil, name: nil, code: 429, status: Status(message: "slow down", reason: "TooManyRequests", code: 429), retryAfterSeconds: 7)
        watcher.watchFailed(throttled, now: now, unit: 0.1)
        #expect(watcher.nextStep(now: now) == .wait(until: now + .seconds(7), then: .watching(from: "1")), "Retry-After wins over a short jittered backoff")
        now = now + .seconds(7)
        var caps: [Duration] = []
        let serverError = APIError(verb: "watch", resource: nil, namespace: nil, name: nil, code: 500, status: Status(message: "boom", code: 500))
        for _ in 0..<4 {
            watcher.watchFailed(serverError, now: now, unit: 1)
            guard case .wait(let until, _) = watcher.nextStep(now: now) else { Issue.record("expected a wait"); return }
            caps.append(until - now)
            now = until
        }
        #expect(caps == [.milliseconds(1600), .milliseconds(3200), .milliseconds(6400), .milliseconds(12800)])
        watcher.watchStarted(now: now)
        _ = watcher.received(.bookmark(resourceVersion: "2", initialEventsEnd: false), now: now)
        _ = watcher.received(.bookmark(resourceVersion: "3", initialEventsEnd: false), now: now + .seconds(121))
        watcher.watchFailed(serverError, now: now + .seconds(122), unit: 1)
        #expect(watcher.nextStep(now: now + .seconds(122)) == .wait(until: now + .seconds(122) + .milliseconds(800), then: .watching(from: "3")))
    }

    @Test("an expired list (410) relists with resourceVersion \"\"")
    func expiredList() {
        var watcher = makeWatcher()
        watcher.listFailed(expired(), now: .origin, unit: 0)
        #expect(watcher.nextStep(now: .origin) == .list(resourceVersion: ""))
    }
}
