import KubeRuntime
import KubeTesting
import Logging
import Synchronization
import Testing

/// Records what the reconciler saw, from any worker.
final class Recorder: Sendable {
    let calls = Mutex<[String]>([])
    let active = Mutex<[String: Int]>([:])
    let overlap = Mutex(false)

    func enter(_ key: String) {
        active.withLock { active in
            active[key, default: 0] += 1
            if active[key]! > 1 { overlap.withLock { $0 = true } }
        }
        calls.withLock { $0.append(key) }
    }

    func leave(_ key: String) { active.withLock { $0[key, default: 1] -= 1 } }
    func count(_ key: String) -> Int { calls.withLock { $0.filter { $0 == key }.count } }
}

struct Failure: Error {}

@Suite("Controller")
struct ControllerTests {
    func eventually(_ condition: @escaping () async -> Bool) async {
        if (try? await KubeTesting.eventually(timeout: .seconds(30), condition)) != true { Issue.record("condition not met within 30 s") }
    }

    @Test("4 workers: keys are deduplicated, never reconciled concurrently, and a key changed during its reconcile runs again")
    func exclusivity() async {
        let controller = Controller<String, ContinuousClock>(clock: ContinuousClock(), logger: Logger(label: "t"))
        let recorder = Recorder()
        let gate = Mutex(false)  // holds the first reconcile of ns/a open until the test says so
        let runner = Task {
            await controller.run(workers: 4) { key in
                recorder.enter(key)
                if key == "ns/a" && recorder.count(key) == 1 {
                    while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
                }
                try? await Task.sleep(for: .milliseconds(5))
                recorder.leave(key)
                return .awaitChange
            }
        }
        for _ in 0..<10 { await controller.enqueue("ns/a") }
        await controller.enqueue("ns/b")
        await eventually { recorder.count("ns/a") == 1 }
        for _ in 0..<3 { await controller.enqueue("ns/a") }  // changed while being reconciled
        try? await Task.sleep(for: .milliseconds(50))
        #expect(recorder.count("ns/a") == 1, "not handed to a second worker while the first runs")
        gate.withLock { $0 = true }
        await eventually { recorder.count("ns/a") == 2 && recorder.count("ns/b") == 1 }
        try? await Task.sleep(for: .milliseconds(100))
        #expect(recorder.count("ns/a") == 2)
        #expect(!recorder.overlap.withLock { $0 })
        runner.cancel()
        await runner.value
    }

    @Test("requeue(after:) runs again; retryable errors back off and retry; terminal errors wait for a change")
    func resultsAndErrors() async {
        let controller = Controller<String, ContinuousClock>(clock: ContinuousClock(), logger: Logger(label: "t"), queue: WorkQueue(baseDelay: .milliseconds(20), maxDelay: .seconds(1)))
        let recorder = Recorder()
        let runner = Task {
            await controller.run(workers: 2) { key in
                recorder.enter(key)
                defer { recorder.leave(key) }
                switch key {
                case "requeue": return recorder.count(key) < 3 ? .requeue(after: .milliseconds(30)) : .awaitChange
                case "flaky": if recorder.count(key) < 3 { throw Failure() }; return .awaitChange
                case "invalid": throw ReconcileError(terminal: true, Failure())
                default: return .awaitChange
                }
            }
        }
        await controller.enqueue("requeue")
        await controller.enqueue("flaky")
        await controller.enqueue("invalid")
        await eventually { recorder.count("requeue") == 3 && recorder.count("flaky") == 3 }
        await eventually { await controller.isIdle }
        #expect(recorder.count("requeue") == 3)
        #expect(recorder.count("flaky") == 3, "two failures retried with backoff, then success")
        #expect(recorder.count("invalid") == 1, "terminal: not retried")
        await controller.enqueue("invalid")
        await eventually { recorder.count("invalid") == 2 }
        runner.cancel()
        await runner.value
    }

    @Test("isIdle: false while a reconcile runs or a key is due, true once done; a key requeued for later does not count")
    func idleness() async {
        let controller = Controller<String, ContinuousClock>(clock: ContinuousClock(), logger: Logger(label: "t"))
        let gate = Mutex(false)
        let runner = Task {
            await controller.run(workers: 1) { key in
                while key == "held", !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
                return key == "later" ? .requeue(after: .seconds(600)) : .awaitChange
            }
        }
        #expect(await controller.isIdle)
        await controller.enqueue("held")
        await eventually { await controller.depth == 0 }  // taken by the worker, still running
        #expect(!(await controller.isIdle))
        gate.withLock { $0 = true }
        await eventually { await controller.isIdle }
        await controller.enqueue("later")
        await eventually { await controller.isIdle }  // ran once; due again only in ten minutes
        runner.cancel()
        await runner.value
    }
}
