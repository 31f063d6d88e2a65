import DataTree
import KubeModel
import NetWatchAPI

/// A built-in rule pack: its alerts and recording rules as templates over tunable knobs.
struct AlertPack: Sendable {
    /// A tunable threshold: key, default, allowed range, and what it measures.
    struct Threshold: Sendable {
        var key: String
        var defaultValue: Double
        var minimum: Double
        var maximum: Double?
        var meaning: String
    }

    struct Alert: Sendable {
        var name: String
        var defaultFor: String
        var defaultSeverity: String
        var expr: @Sendable (Context) -> String
        var summary: String
        /// A Go template; `$value` is formatted for humans (`humanize`, `humanizePercentage`).
        var description: String
    }

    struct Recording: Sendable {
        var record: String
        var expr: @Sendable (Context) -> String
    }

    /// What the templates see: the pack's thresholds (defaults filled in) and device exclusion.
    struct Context: Sendable {
        var thresholds: [String: Double]
        var excludeDevices: String

        /// The threshold as a PromQL number literal.
        func t(_ key: String) -> String { Self.literal(thresholds[key] ?? .nan) }

        /// `device!~"<excludeDevices>"`, escaped for a PromQL string.
        var devices: String { "device!~\"\(Self.escape(excludeDevices))\"" }

        static func literal(_ value: Double) -> String {
            if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
            return "\(value)"
        }

        static func escape(_ text: String) -> String {
            var out = ""
            for character in text {
                if character == "\\" || character == "\"" { out.append("\\") }
                out.append(character)
            }
            return out
        }
    }

    var name: String
    var summary: String
    var thresholds: [Threshold]
    var alerts: [Alert]
    var recordings: [Recording]

    static let defaultExcludeDevices = NetworkDevices.defaultExclusion
    static let severities: Set<String> = ["critical", "warning", "info"]

    /// The pack's rule groups for these knobs, or the problems that skip it (field paths under
    /// `spec.packs[index]`).
    func groups(for knobs: NetworkAlertsSpec.Pack, at path: String, runbookBase: String) -> ([Node], [(String, String)]) {
        var problems: [(String, String)] = []
        var values: [String: Double] = [:]
        for threshold in thresholds { values[threshold.key] = threshold.defaultValue }
        for key in knobs.thresholds.keys.sorted() {
            guard let threshold = thresholds.first(where: { $0.key == key }), let value = knobs.thresholds[key] else {
                problems.append(("\(path).thresholds.\(key)", "\(name) has no threshold \"\(key)\"; it has \(thresholds.map(\.key).joined(separator: ", "))"))
                continue
            }
            if value < threshold.minimum || threshold.maximum.map({ value > $0 }) == true || value.isNaN {
                let range = threshold.maximum.map { "\(Context.literal(threshold.minimum)) to \(Context.literal($0))" } ?? "at least \(Context.literal(threshold.minimum))"
                problems.append(("\(path).thresholds.\(key)", "\(Context.literal(value)) is out of range for \(threshold.meaning); use \(range)"))
            }
            values[key] = value
        }
        let alertNames = Set(alerts.map(\.name))
        func checkNames(_ names: [String], field: String) {
            for alert in names where !alertNames.contains(alert) {
                problems.append(("\(path).\(field)", "\(name) has no alert \"\(alert)\"; it has \(alerts.map(\.name).joined(separator: ", "))"))
            }
        }
        checkNames(knobs.for.keys.sorted(), field: "for")
        checkNames(knobs.severity.keys.sorted(), field: "severity")
        checkNames(knobs.disabled, field: "disabled")
        for (alert, text) in knobs.for.sorted(by: { $0.key < $1.key }) {
            do throws(DurationError) { _ = try PrometheusDuration(parsing: text) } catch {
                problems.append(("\(path).for.\(alert)", "\(error.description)"))
            }
        }
        for (alert, severity) in knobs.severity.sorted(by: { $0.key < $1.key }) where !Self.severities.contains(severity) {
            problems.append(("\(path).severity.\(alert)", "\"\(severity)\" is not a severity; use critical, warning or info"))
        }
        guard problems.isEmpty else { return ([], problems) }

        let context = Context(thresholds: values, excludeDevices: knobs.excludeDevices ?? Self.defaultExcludeDevices)
        var rules: [Node] = []
        for alert in alerts where !knobs.disabled.contains(alert.name) {
            var rule = Mapping()
            rule["alert"] = .string(alert.name)
            rule["expr"] = .string(alert.expr(context))
            let duration = knobs.for[alert.name] ?? alert.defaultFor
            if duration != "0s" { rule["for"] = .string(duration) }
            rule["labels"] = ["severity": .string(knobs.severity[alert.name] ?? alert.defaultSeverity), "pack": .string(name)]
            rule["annotations"] = [
                "summary": .string(alert.summary),
                "description": .string(alert.description),
                "runbook_url": .string("\(runbookBase)/\(alert.name).md"),
            ]
            rules.append(.mapping(rule))
        }
        var groups: [Node] = []
        if !rules.isEmpty { groups.append(["name": .string("netwatch-\(name)"), "rules": .sequence(rules)]) }
        if !recordings.isEmpty {
            groups.append(["name": .string("netwatch-\(name)-recording"), "rules": .sequence(recordings.map { recording in
                ["record": .string(recording.record), "expr": .string(recording.expr(context))]
            })])
        }
        return (groups, [])
    }
}
