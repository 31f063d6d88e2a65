/// When a workload's learned policy can be trusted: Learning → Stabilizing → Stable.
///
/// A workload is Learning until the learning window has passed since observation started;
/// then Stabilizing until its proposal has stayed unchanged for the stabilization period;
/// then Stable. A proposal changes exactly when a new edge (peer, port, protocol) appears, so
/// the phase is a pure function of the times its edges were first seen: the same flows give
/// the same phase, offline in `netwatch render` and in the operator.
public struct PolicyLifecycle: Sendable, Hashable {
    public enum Phase: String, Sendable, Hashable, Comparable, CaseIterable {
        case learning = "Learning", stabilizing = "Stabilizing", stable = "Stable"

        /// Learning < Stabilizing < Stable: a group is as far as its least advanced member.
        public static func < (lhs: Phase, rhs: Phase) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// Epoch milliseconds.
    public var observationStart: Int64
    public var windowMilliseconds: Int64
    public var stabilizationMilliseconds: Int64

    public init(observationStart: Int64, windowMilliseconds: Int64, stabilizationMilliseconds: Int64) {
        self.observationStart = observationStart
        self.windowMilliseconds = windowMilliseconds
        self.stabilizationMilliseconds = max(1, stabilizationMilliseconds)
    }

    /// The first instant the workload whose edges were first seen at `changes` was Stable:
    /// the window has passed and no edge appeared in the stabilization period before it.
    /// Edges seen later do not move it back (what happens to them depends on the mode).
    public func stableSince(changes: [Int64]) -> Int64 {
        let sorted = changes.sorted()
        var candidate = observationStart + windowMilliseconds
        var index = 0
        while true {
            // The latest change at or before the candidate.
            while index < sorted.count, sorted[index] <= candidate { index += 1 }
            guard index > 0, candidate - sorted[index - 1] < stabilizationMilliseconds else { return candidate }
            candidate = sorted[index - 1] + stabilizationMilliseconds
        }
    }

    /// The phase at `now` of a workload whose edges were first seen at `changes`, when every
    /// new edge resets stabilization (observe mode, or widening).
    public func phase(changes: [Int64], at now: Int64) -> Phase {
        if now < observationStart + windowMilliseconds { return .learning }
        let lastChange = changes.filter { $0 <= now }.max() ?? observationStart
        return now - lastChange < stabilizationMilliseconds ? .stabilizing : .stable
    }

    /// The phase at `now` when the proposal freezes once Stable (audit and enforce without widening).
    public func frozenPhase(changes: [Int64], at now: Int64) -> Phase {
        if now < observationStart + windowMilliseconds { return .learning }
        return now >= stableSince(changes: changes) ? .stable : .stabilizing
    }
}
