import Flows
import Testing

@Suite("Learning lifecycle")
struct PolicyLifecycleTests {
    // Minutes as milliseconds: a 60-minute window from 0, 10 minutes of stabilization.
    static let minute: Int64 = 60_000
    static let lifecycle = PolicyLifecycle(observationStart: 0, windowMilliseconds: 60 * minute, stabilizationMilliseconds: 10 * minute)

    @Test("Learning until the window passes, Stabilizing for the stabilization period after each change, then Stable")
    func phases() {
        let m = Self.minute, lifecycle = Self.lifecycle
        #expect(lifecycle.phase(changes: [], at: 59 * m) == .learning)
        #expect(lifecycle.phase(changes: [], at: 60 * m) == .stable)
        #expect(lifecycle.phase(changes: [55 * m], at: 60 * m) == .stabilizing)
        #expect(lifecycle.phase(changes: [55 * m], at: 65 * m) == .stable)
        #expect(lifecycle.phase(changes: [55 * m, 90 * m], at: 95 * m) == .stabilizing, "a new edge resets it")
        #expect(lifecycle.phase(changes: [55 * m, 90 * m], at: 80 * m) == .stable, "changes after now do not count yet")
    }

    @Test("frozen: Stable from the first quiet stabilization period after the window; later changes do not move it")
    func frozen() {
        let m = Self.minute, lifecycle = Self.lifecycle
        #expect(lifecycle.stableSince(changes: []) == 60 * m)
        #expect(lifecycle.stableSince(changes: [5 * m, 40 * m]) == 60 * m)
        #expect(lifecycle.stableSince(changes: [55 * m]) == 65 * m)
        #expect(lifecycle.stableSince(changes: [55 * m, 62 * m, 70 * m]) == 80 * m, "each change within the period extends it")
        #expect(lifecycle.stableSince(changes: [55 * m, 62 * m, 90 * m]) == 72 * m, "a change after it became Stable is late, not a reset")
        #expect(lifecycle.frozenPhase(changes: [55 * m, 62 * m, 90 * m], at: 95 * m) == .stable)
        #expect(lifecycle.frozenPhase(changes: [55 * m, 62 * m], at: 70 * m) == .stabilizing)
        #expect(lifecycle.frozenPhase(changes: [], at: 30 * m) == .learning)
    }

    @Test("property: stableSince is after the window, quiet for the period before it, and never earlier than needed")
    func property() {
        var generator = SystemRandomNumberGenerator()
        let m = Self.minute, lifecycle = Self.lifecycle
        for _ in 0..<2_000 {
            let changes = (0..<Int.random(in: 0...8, using: &generator)).map { _ in Int64.random(in: 0...(150 * m), using: &generator) }
            let stable = lifecycle.stableSince(changes: changes)
            #expect(stable >= 60 * m)
            #expect(!changes.contains { $0 > stable - 10 * m && $0 <= stable }, "quiet before \(stable): \(changes)")
            // One minute earlier it was not yet Stable (unless that is before the window).
            if stable > 60 * m {
                let earlier = stable - 1
                #expect(changes.contains { $0 > earlier - 10 * m && $0 <= earlier }, "\(changes)")
            }
        }
    }
}
