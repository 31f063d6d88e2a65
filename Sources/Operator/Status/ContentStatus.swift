import DataTree
import KubeModel

/// The status netwatch reports on a NetworkAlerts, NetworkDashboard or NetworkProbe object:
/// `observedGeneration`, a count (`rules` in its rule file; `stacks` carrying the dashboard;
/// `targets` the probe reaches), and
/// `Accepted` — False with reason InvalidConfiguration and the field and problem when a pack or
/// the dashboard was skipped or the object was rejected.
///
/// Pure, like `StackStatus`: an unchanged object yields an identical status.
enum ContentStatus {
    static func status(stored: Node, problems: [Diagnostic], count: (field: String, value: Int), now: String) -> Node {
        let errors = problems.filter { $0.severity == .error }
        func describe(_ diagnostic: Diagnostic) -> String { "\(diagnostic.field.map { "\($0): " } ?? "")\(diagnostic.message)" }
        let message: String = if let first = errors.first {
            describe(first) + (problems.count > 1 ? " (and \(problems.count - 1) more; see the Events of this object)" : "")
        } else if let warning = problems.first {
            "accepted with a warning: " + describe(warning)
        } else {
            switch count.field {
            case "rules": "\(count.value) rule(s) written"
            case "targets": count.value == 0 ? "selected by no MonitoringStack's probeSelector" : "\(count.value) target(s) probed"
            default: "rendered for \(count.value) stack(s)"
            }
        }
        var status = Mapping()
        if let generation = stored["metadata"]?["generation"] { status["observedGeneration"] = generation }
        status[count.field] = .int(count.value)
        let previous = stored["status"]?["conditions"]?.sequence ?? []
        status["conditions"] = [Condition.make("Accepted", errors.isEmpty, reason: errors.isEmpty ? "Accepted" : "InvalidConfiguration", message: message, previous: previous, now: now)]
        return .mapping(status)
    }

    /// Rules in a rendered rule file (alerting and recording).
    static func ruleCount(in bytes: [UInt8]) -> Int {
        var count = 0
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("- alert:") || trimmed.hasPrefix("- record:") { count += 1 }
        }
        return count
    }
}
