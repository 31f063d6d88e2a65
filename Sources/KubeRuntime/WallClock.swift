public import Foundation

/// Where calendar time comes from: the timestamps the operator writes (condition transition
/// times, Events, lease renew times) and the epoch milliseconds flows are stamped with.
///
/// Monotonic time (timeouts, backoff, lease expiry) comes from a `Clock`; this is its
/// counterpart for the time people read. Injected, so tests can fix it and assert on it.
public struct WallClock: Sendable {
    public let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date) {
        self.now = now
    }

    /// The system's clock.
    public static let system = WallClock { Date() }

    /// Always `date`.
    public static func fixed(_ date: Date) -> WallClock {
        WallClock { date }
    }

    /// RFC 3339 in UTC, to the second (metav1.Time).
    public var timestamp: String {
        ISO8601DateFormatter().string(from: now())
    }

    /// RFC 3339 in UTC with microseconds (metav1.MicroTime).
    public var microTimestamp: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
        return formatter.string(from: now())
    }

    /// Milliseconds since 1970.
    public var epochMilliseconds: Int64 {
        Int64(now().timeIntervalSince1970 * 1000)
    }
}
