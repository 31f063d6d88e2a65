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
        Self.rfc3339(now(), fractionDigits: 0)
    }

    /// RFC 3339 in UTC with microseconds (metav1.MicroTime).
    public var microTimestamp: String {
        Self.rfc3339(now(), fractionDigits: 6)
    }

    /// `yyyy-MM-ddTHH:mm:ss[.fraction]Z` in UTC — made by hand: a status write or Event per
    /// object at start-up made creating a Foundation formatter each time a twentieth of the
    /// operator's start. Whole seconds are truncated, as Kubernetes (Go's time.Format) writes
    /// them — ISO8601DateFormatter rounds to milliseconds first, so …30.9998 became …31; a
    /// fraction is rounded to its last digit (a Double holds today's time to about a quarter
    /// microsecond).
    static func rfc3339(_ date: Date, fractionDigits: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<fractionDigits { scale *= 10 }
        let interval = date.timeIntervalSince1970
        let units = fractionDigits == 0 ? Int64(interval.rounded(.down)) : Int64((interval * Double(scale)).rounded())
        let (quotient, remainder) = units.quotientAndRemainder(dividingBy: scale)
        let fraction = remainder < 0 ? remainder + scale : remainder
        var time = time_t(remainder < 0 ? quotient - 1 : quotient)
        var parts = tm()
        gmtime_r(&time, &parts)
        var out = ""
        out.reserveCapacity(20 + fractionDigits + 1)
        func append(_ value: Int, width: Int) {
            let digits = String(value)
            if digits.count < width { out += String(repeating: "0", count: width - digits.count) }
            out += digits
        }
        append(Int(parts.tm_year) + 1900, width: 4)
        out += "-"
        append(Int(parts.tm_mon) + 1, width: 2)
        out += "-"
        append(Int(parts.tm_mday), width: 2)
        out += "T"
        append(Int(parts.tm_hour), width: 2)
        out += ":"
        append(Int(parts.tm_min), width: 2)
        out += ":"
        append(Int(parts.tm_sec), width: 2)
        if fractionDigits > 0 {
            out += "."
            append(Int(fraction), width: fractionDigits)
        }
        out += "Z"
        return out
    }

    /// Milliseconds since 1970.
    public var epochMilliseconds: Int64 {
        Int64(now().timeIntervalSince1970 * 1000)
    }
}
