import KubeRuntime
import Testing

@Suite("Backoff")
struct BackoffTests {
    @Test("0.8 s doubling to 30 s, full jitter inside the cap, reset after 2 minutes of health")
    func schedule() {
        var backoff = Backoff()
        var now = RuntimeInstant.origin
        var caps: [Duration] = []
        for _ in 0..<8 {
            caps.append(backoff.failed(at: now, unit: 1))
            now = now + .seconds(1)
        }
        #expect(caps == [.milliseconds(800), .milliseconds(1600), .milliseconds(3200), .milliseconds(6400), .milliseconds(12800), .milliseconds(25600), .seconds(30), .seconds(30)])
        #expect(backoff.failed(at: now, unit: 0.5) == .seconds(15))
        #expect(backoff.failed(at: now, unit: 0) == .zero)

        // Healthy for less than 2 minutes: the next failure keeps growing from the cap.
        backoff.succeeded(at: now)
        backoff.succeeded(at: now + .seconds(119))
        #expect(backoff.failed(at: now + .seconds(119), unit: 1) == .seconds(30))
        // Healthy for 2 minutes: back to the start.
        let later = now + .seconds(200)
        backoff.succeeded(at: later)
        backoff.succeeded(at: later + .seconds(120))
        #expect(backoff.failed(at: later + .seconds(121), unit: 1) == .milliseconds(800))
    }
}
