import DataTree
import KubeModel

/// The status netwatch reports on a NetworkMonitor: `observedGeneration`, `endpoints` (how many
/// of its endpoints are scraped), and the condition `Accepted` — False with reason
/// `InvalidConfiguration` and the field and problem when anything in it is in error (the rest
/// of it, and every other object, still renders).
///
/// Pure, like `StackStatus`: an unchanged monitor yields an identical status.
enum MonitorStatus {
    static func status(stored: Node, problems: [Diagnostic], now: String) -> Node {
        let errors = problems.filter { $0.severity == .error }
        let warnings = problems.filter { $0.severity == .warning }
        let spec = stored["spec"]
        var endpoints = spec?["endpoints"]?.sequence?.count ?? 0
        // Endpoints with an error are skipped by render; count the distinct ones.
        let skipped = Set(errors.compactMap { $0.field.flatMap(Self.endpointIndex) })
        endpoints -= skipped.count
        if spec?["networkExporter"] == .bool(true) { endpoints += 1 }
        if spec?["selector"] == nil { endpoints = 0 }
        if errors.contains(where: { $0.field.flatMap(Self.endpointIndex) == nil }) { endpoints = 0 }  // the whole object was rejected

        func describe(_ diagnostic: Diagnostic) -> String { "\(diagnostic.field.map { "\($0): " } ?? "")\(diagnostic.message)" }
        let message: String
        if let first = errors.first {
            message = describe(first) + (problems.count > 1 ? " (and \(problems.count - 1) more; see the Events of this object)" : "")
        } else if let first = warnings.first {
            message = "accepted with a warning: " + describe(first)
        } else {
            message = "every endpoint is scraped"
        }
        var status = Mapping()
        if let generation = stored["metadata"]?["generation"] { status["observedGeneration"] = generation }
        status["endpoints"] = .int(max(0, endpoints))
        let previous = stored["status"]?["conditions"]?.sequence ?? []
        status["conditions"] = [Condition.make("Accepted", errors.isEmpty, reason: errors.isEmpty ? "Accepted" : "InvalidConfiguration", message: message, previous: previous, now: now)]
        return .mapping(status)
    }

    /// `spec.endpoints[3].scrapeTimeout` → 3.
    static func endpointIndex(_ field: String) -> Int? {
        guard field.hasPrefix("spec.endpoints["), let close = field.firstIndex(of: "]") else { return nil }
        return Int(field[field.index(field.startIndex, offsetBy: "spec.endpoints[".count)..<close])
    }
}
