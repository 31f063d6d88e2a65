import Foundation
import KubeRuntime
import Testing

@Suite("WallClock timestamps")
struct WallClockTests {
    @Test("metav1.Time is the second truncated, as Go writes it, in ISO8601DateFormatter's form; metav1.MicroTime adds the microseconds (Foundation's DateFormatter keeps only milliseconds)")
    func agreesWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        // Around the epoch, leap days, year ends, today, and random instants to 2100.
        var instants: [(seconds: Int64, micros: Int64)] = [0, 951_782_400, 1_709_164_799, 1_798_761_599, 1_796_680_144].map { ($0, 0) }
        for _ in 0..<500 {
            instants.append((Int64.random(in: 0...4_102_444_800, using: &generator), Int64.random(in: 0..<1_000_000, using: &generator)))
        }
        let iso = ISO8601DateFormatter()
        for (seconds, micros) in instants {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(micros) / 1e6)
            let clock = WallClock.fixed(date)
            // The formatter on the whole second: on the instant itself it rounds to milliseconds
            // first (…30.9998 becomes …31), which Kubernetes, truncating, never writes.
            let second = iso.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(clock.timestamp == second, "\(seconds)")
            let fraction = String(micros)
            #expect(clock.microTimestamp == second.dropLast() + "." + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z", "\(seconds).\(micros)")
        }
    }
}
