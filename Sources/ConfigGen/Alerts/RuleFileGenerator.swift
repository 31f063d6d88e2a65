import DataTree
import KubeModel
import NetWatchAPI

/// Turns NetworkAlerts objects into Prometheus rule files: one file per object, its packs'
/// groups first (in the order listed) then its custom groups.
///
/// Guarantees: a pack with a bad knob is skipped alone with a diagnostic naming the field; a
/// group name used twice in one file (a pack listed twice, or a custom group named like a
/// pack's) keeps the first and reports the second; an object with nothing left renders no file.
enum RuleFileGenerator {
    struct RuleFile: Sendable {
        /// `rules/<namespace>_<name>.yml`, relative to prometheus.yml.
        var relativePath: String
        var bytes: [UInt8]
        var rules: Int
        /// The series the file's recording rules record (`record:` names), in file order.
        var recordedSeries: [String]
    }

    /// `kind` is NetworkAlerts or PrometheusRule (a PrometheusRule's file is prefixed, so the
    /// two kinds never collide on a name).
    static func file(for alerts: NetworkAlerts, kind: String = "NetworkAlerts") -> (RuleFile?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        let reference = ObjectReference(kind: kind, namespace: alerts.namespace, name: alerts.name)
        func report(_ field: String, _ message: String) {
            diagnostics.append(Diagnostic(.error, object: reference, source: alerts.source, field: field, message: message))
        }
        let runbookBase = alerts.spec.runbookBaseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? NetworkAlertsSpec.defaultRunbookBaseURL
        var groups: [Node] = []
        var names: Set<String> = []
        var rules = 0
        var recorded: [String] = []
        func add(_ group: Node, field: String) {
            let name = group["name"]?.string ?? ""
            guard names.insert(name).inserted else {
                report(field, "group \"\(name)\" is already in this object's rule file; this one is skipped")
                return
            }
            let groupRules = group["rules"]?.sequence ?? []
            rules += groupRules.count
            recorded += groupRules.compactMap { $0["record"]?.string }
            groups.append(group)
        }
        for (index, knobs) in alerts.spec.packs.enumerated() {
            let path = "spec.packs[\(index)]"
            guard let pack = AlertPack.named(knobs.name) else {
                report("\(path).name", "\"\(knobs.name)\" is not a pack; use one of \(AlertPack.catalog.map(\.name).joined(separator: ", ")). The pack is skipped")
                continue
            }
            let (packGroups, problems) = pack.groups(for: knobs, at: path, runbookBase: runbookBase)
            for (field, message) in problems { report(field, message + ". The pack is skipped") }
            for group in packGroups { add(group, field: path) }
        }
        for (index, group) in alerts.spec.groups.enumerated() {
            add(node(group), field: "spec.groups[\(index)].name")
        }
        guard !groups.isEmpty else { return (nil, diagnostics) }
        let bytes = emitYAML(["groups": .sequence(groups)])
        let stem = kind == "NetworkAlerts" ? "\(alerts.namespace)_\(alerts.name)" : "prometheusRule_\(alerts.namespace)_\(alerts.name)"
        return (RuleFile(relativePath: "rules/\(stem).yml", bytes: bytes, rules: rules, recordedSeries: recorded), diagnostics)
    }

    /// A custom group in rule-file syntax, keys in Prometheus's documented order.
    static func node(_ group: RuleGroup) -> Node {
        var mapping = Mapping()
        mapping["name"] = .string(group.name)
        if let interval = group.interval { mapping["interval"] = .string(interval.text) }
        mapping["rules"] = .sequence(group.rules.map { rule in
            var fields = Mapping()
            if let alert = rule.alert { fields["alert"] = .string(alert) }
            if let record = rule.record { fields["record"] = .string(record) }
            fields["expr"] = .string(rule.expr)
            if let duration = rule.for { fields["for"] = .string(duration.text) }
            if let duration = rule.keepFiringFor { fields["keep_firing_for"] = .string(duration.text) }
            if !rule.labels.isEmpty { fields["labels"] = .sortedStringMap(rule.labels) }
            if !rule.annotations.isEmpty { fields["annotations"] = .sortedStringMap(rule.annotations) }
            return .mapping(fields)
        })
        return .mapping(mapping)
    }
}
