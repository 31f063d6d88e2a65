/// A point on a monotonic timeline, as the runtime's state machines see time. Drivers map
/// their clock onto it; tests move it by hand. State machines never read a clock themselves.
public struct RuntimeInstant: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var sinceOrigin: Duration

    public init(_ sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    public static let origin = RuntimeInstant(.zero)

    public static func < (lhs: RuntimeInstant, rhs: RuntimeInstant) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
    public static func + (lhs: RuntimeInstant, rhs: Duration) -> RuntimeInstant { RuntimeInstant(lhs.sinceOrigin + rhs) }
    public static func - (lhs: RuntimeInstant, rhs: RuntimeInstant) -> Duration { lhs.sinceOrigin - rhs.sinceOrigin }

    public var description: String { "t+\(sinceOrigin)" }
}
