import DataTree
import KubeModel

/// The status netwatch reports on a NetworkAlerts object: `observedGeneration`, `rules` (how
/// many rules its rule file holds), and `Accepted` — False with reason InvalidConfiguration and
/// the field and problem when a pack was skipped or the object was rejected.
///
/// Pure, like `StackStatus`: an unchanged object yields an identical status.
enum AlertsStatus {
    static func status(stored: Node, problems: [Diagnostic], rules: Int, now: String) -> Node {
        let errors = problems.filter { $0.severity == .error }
        func describe(_ diagnostic: Diagnostic) -> String { "\(diagnostic.field.map { "\($0): " } ?? "")\(diagnostic.message)" }
        let message: String = if let first = errors.first {
            describe(first) + (problems.count > 1 ? " (and \(problems.count - 1) more; see the Events of this object)" : "")
        } else if let warning = problems.first {
            "accepted with a warning: " + describe(warning)
        } else {
            "\(rules) rule(s) written"
        }
        var status = Mapping()
        if let generation = stored["metadata"]?["generation"] { status["observedGeneration"] = generation }
        status["rules"] = .int(rules)
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
