/// A Prometheus duration (`30s`, `5m`, `1h30m`, `0`): units y, w, d, h, m, s, ms, each at most
/// once and in that order, as Prometheus's `model.ParseDuration` accepts them.
public struct PrometheusDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The text as written; emitted unchanged so output matches the input.
    public let text: String
    public let milliseconds: Int

    private static let units: [(suffix: String, milliseconds: Int)] = [
        ("y", 365 * 24 * 3_600_000), ("w", 7 * 24 * 3_600_000), ("d", 24 * 3_600_000),
        ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    init(text: String, milliseconds: Int) {
        self.text = text
        self.milliseconds = milliseconds
    }

    /// Parses `text`; the error says what is wrong and shows valid forms.
    public init(parsing text: String) throws(DurationError) {
        if text == "0" {
            self.text = text
            milliseconds = 0
            return
        }
        guard !text.isEmpty else { throw DurationError(text: text, reason: "it is empty") }
        var total = 0
        var nextUnit = 0
        // On UTF-8 bytes: digits and unit letters are ASCII, so no Character is needed.
        var rest = text.utf8[...]
        while !rest.isEmpty {
            let digits = rest.prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard !digits.isEmpty, let value = Int(Substring(digits)) else {
                throw DurationError(text: text, reason: "expected a number at \"\(Substring(rest))\"")
            }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
            guard let unitIndex = Self.units.firstIndex(where: { $0.suffix.utf8.elementsEqual(letters) }) else {
                throw DurationError(text: text, reason: letters.isEmpty ? "\(Substring(digits)) has no unit" : "unknown unit \"\(Substring(letters))\"")
            }
            guard unitIndex >= nextUnit else {
                throw DurationError(text: text, reason: "units must appear once each, largest first")
            }
            let (product, overflow) = value.multipliedReportingOverflow(by: Self.units[unitIndex].milliseconds)
            guard !overflow, total <= Int.max - product else { throw DurationError(text: text, reason: "it is too large") }
            total += product
            nextUnit = unitIndex + 1
            rest = rest.dropFirst(letters.count)
        }
        self.text = text
        milliseconds = total
    }

    public var description: String { text }

    public static func < (lhs: PrometheusDuration, rhs: PrometheusDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }

    /// The pattern a CRD schema uses for durations (prometheus-operator's).
    public static let pattern = "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
}

/// A duration that does not parse.
public struct DurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public var description: String {
        "\"\(text)\" is not a Prometheus duration: \(reason); use forms like 30s, 5m, 1h30m"
    }
}
