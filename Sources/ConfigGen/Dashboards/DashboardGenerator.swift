import DataTree
import KubeModel
public import NetWatchAPI

/// Turns a NetworkDashboard into Grafana dashboard JSON (schemaVersion 39, the floor for
/// Grafana ≥ 11): a `datasource` variable defaulting to the stack's data source, the preset's
/// variables and rows of panels laid out on the 24-column grid without overlaps, then the
/// custom panels. Where the stack's rule files record a series a panel shows (the alert
/// packs' recording rules), the panel queries the recorded series instead.
///
/// Guarantees: the `uid` depends only on namespace/name; `version` is derived from the content,
/// so it changes exactly when the content does; the same object gives the same bytes. A bad
/// dashboard (unknown preset, threshold key or unit, out-of-range threshold, invalid expr) is
/// skipped with diagnostics naming the fields.
public enum DashboardGenerator {
    struct Rendered: Sendable {
        var uid: String
        var name: String
        var folder: String?
        var json: [UInt8]
    }

    static let datasource: Node = ["type": "prometheus", "uid": "${datasource}"]

    /// The dashboard uid of a NetworkDashboard: "nw-" and 16 hex digits of its namespace/name.
    public static func uid(namespace: String, name: String) -> String {
        var hash = FNV1a64()
        hash.add(Array("\(namespace)/\(name)".utf8))
        return "nw-" + hash.hex
    }

    static func dashboard(for object: NetworkDashboard, datasourceUID: String, recordings: Set<String> = []) -> (Rendered?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        let reference = ObjectReference(kind: "NetworkDashboard", namespace: object.namespace, name: object.name)
        func report(_ field: String, _ message: String) {
            diagnostics.append(Diagnostic(.error, object: reference, source: object.source, field: field, message: message + ". The dashboard is skipped"))
        }
        let spec = object.spec
        var preset: DashboardPreset?
        if let name = spec.preset {
            preset = DashboardPreset.named(name)
            if preset == nil { report("spec.preset", "\"\(name)\" is not a preset; use one of \(DashboardPreset.catalog.map(\.name).joined(separator: ", "))") }
        }
        var thresholds: [String: Double] = [:]
        for threshold in preset?.thresholds ?? [] { thresholds[threshold.key] = threshold.defaultValue }
        for key in spec.thresholds.keys.sorted() {
            guard let threshold = preset?.thresholds.first(where: { $0.key == key }), let value = spec.thresholds[key] else {
                report("spec.thresholds.\(key)", "\(preset.map { "\($0.name) has no threshold \"\(key)\"; it has \($0.thresholds.map(\.key).joined(separator: ", "))" } ?? "thresholds need a preset")")
                continue
            }
            if value < threshold.minimum || threshold.maximum.map({ value > $0 }) == true || value.isNaN {
                report("spec.thresholds.\(key)", "\(AlertPack.Context.literal(value)) is out of range for \(threshold.meaning)")
            }
            thresholds[key] = value
        }
        for (index, panel) in spec.panels.enumerated() {
            if let unit = panel.unit, !GrafanaUnits.known.contains(unit) {
                report("spec.panels[\(index)].unit", "\"\(unit)\" is not a Grafana unit netwatch knows; use e.g. bps, Bps, pps, percentunit, reqps, ms, short")
            }
            if let problem = checkQuery(panel.expr) {
                report("spec.panels[\(index)].expr", "\(problem)")
            }
        }
        if preset == nil && spec.panels.isEmpty && spec.preset == nil {
            report("spec", "has neither a preset nor panels")
        }
        guard diagnostics.isEmpty else { return (nil, diagnostics) }

        let context = DashboardPreset.Context(excludeDevices: spec.excludeDevices ?? AlertPack.defaultExcludeDevices, recordings: recordings, thresholds: thresholds)
        var layout = GridLayout()
        var panels: [Node] = []
        for row in preset?.rows ?? [] {
            panels.append(layout.row(row.title))
            for panel in row.panels { panels.append(layout.place(panelNode(panel, context: context, thresholds: thresholds), width: panel.width)) }
        }
        if !spec.panels.isEmpty {
            if preset != nil { panels.append(layout.row("Custom")) }
            for panel in spec.panels {
                let kind = DashboardPreset.Panel.Kind(rawValue: panel.type.rawValue) ?? .timeseries
                let template = DashboardPreset.Panel(title: panel.title, kind: kind, unit: panel.unit ?? "short", width: 12,
                                                     queries: { _ in [.init(expr: panel.expr, legend: panel.legend ?? "")] })
                panels.append(layout.place(panelNode(template, context: context, thresholds: thresholds), width: 12))
            }
        }
        var variables: [Node] = [[
            "type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus",
            "current": ["text": .string(datasourceUID), "value": .string(datasourceUID)], "hide": 0, "refresh": 1,
        ]]
        for variable in preset?.variables ?? [] {
            var mapping: Mapping = Mapping()
            mapping["type"] = "query"
            mapping["name"] = .string(variable.name)
            mapping["label"] = .string(variable.label)
            mapping["datasource"] = datasource
            mapping["query"] = .string(variable.query(context))
            mapping["refresh"] = 2
            mapping["sort"] = 1
            mapping["multi"] = .bool(variable.multi)
            mapping["includeAll"] = .bool(variable.multi)
            if variable.multi { mapping["allValue"] = ".+" }
            if let regex = variable.regex { mapping["regex"] = .string(regex) }
            mapping["current"] = .mapping(Mapping())
            variables.append(.mapping(mapping))
        }
        let uid = uid(namespace: object.namespace, name: object.name)
        var dashboard = Mapping()
        dashboard["uid"] = .string(uid)
        dashboard["title"] = .string(spec.title ?? preset?.title ?? object.name)
        dashboard["tags"] = .strings(["netwatch"] + (preset.map { [$0.name] } ?? []))
        dashboard["timezone"] = "browser"
        dashboard["editable"] = false
        dashboard["graphTooltip"] = 1
        dashboard["time"] = ["from": "now-6h", "to": "now"]
        dashboard["refresh"] = "30s"
        dashboard["schemaVersion"] = 39
        dashboard["version"] = 0
        dashboard["annotations"] = ["list": []]
        dashboard["templating"] = ["list": .sequence(variables)]
        dashboard["panels"] = .sequence(panels)
        dashboard["links"] = []
        // The version is the content's hash (31 bits, positive): it changes exactly when the content does.
        var hash = FNV1a64()
        hash.add(JSONEmitter(style: .compact).emit(.mapping(dashboard)))
        dashboard["version"] = .int(Int(hash.value & 0x7FFF_FFFF))
        let json = JSONEmitter(style: .compact).emit(.mapping(dashboard))
        return (Rendered(uid: uid, name: object.name, folder: spec.folder, json: json), [])
    }

    static func panelNode(_ panel: DashboardPreset.Panel, context: DashboardPreset.Context, thresholds: [String: Double]) -> Node {
        var mapping = Mapping()
        mapping["type"] = .string(panel.kind.rawValue)
        mapping["title"] = .string(panel.title)
        mapping["datasource"] = datasource
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        mapping["targets"] = .sequence(panel.queries(context).enumerated().map { index, query in
            var target: Mapping = Mapping([("refId", .string(String(letters[index % letters.count]))), ("datasource", datasource), ("expr", .string(query.resolved(context))),
                                           ("legendFormat", .string(query.legend))])
            if panel.table {
                target["format"] = "table"
                target["instant"] = true
            }
            return .mapping(target)
        })
        if !panel.renames.isEmpty {
            var renames = Mapping()
            for (from, to) in panel.renames { renames[from] = .string(to) }
            mapping["transformations"] = [["id": "organize", "options": ["excludeByName": ["Time": true], "renameByName": .mapping(renames)]]]
        }
        var defaults = Mapping()
        defaults["unit"] = .string(panel.unit)
        if panel.maximum != nil { defaults["min"] = 0 }
        if let maximum = panel.maximum { defaults["max"] = .double(maximum) }
        var steps: [Node] = [["color": "green", "value": .null]]
        if let key = panel.threshold, let value = thresholds[key] {
            steps = panel.redBelow
                ? [["color": "red", "value": .null], ["color": "green", "value": .double(value)]]
                : steps + [["color": "red", "value": .double(value)]]
        }
        defaults["thresholds"] = ["mode": "absolute", "steps": .sequence(steps)]
        if panel.kind == .timeseries {
            var custom = Mapping()
            if panel.threshold != nil { custom["thresholdsStyle"] = ["mode": "line"] }
            if panel.stacked { custom["stacking"] = ["mode": "normal"] }
            if !custom.isEmpty { defaults["custom"] = .mapping(custom) }
        }
        var overrides: [Node] = []
        if panel.mirrorOut {
            overrides.append(["matcher": ["id": "byRegexp", "options": "/ out$/"], "properties": [["id": "custom.transform", "value": "negative-Y"]]])
        }
        mapping["fieldConfig"] = ["defaults": .mapping(defaults), "overrides": .sequence(overrides)]
        if panel.kind == .timeseries {
            mapping["options"] = ["legend": ["displayMode": "list", "placement": "bottom", "showLegend": true], "tooltip": ["mode": "multi"]]
        }
        if panel.kind == .heatmap {
            mapping["options"] = ["calculate": true, "yAxis": ["unit": .string(panel.unit)], "cellGap": 1,
                                  "color": ["mode": "scheme", "scheme": "Oranges", "fill": "dark-orange", "exponent": 0.5, "steps": 64, "reverse": false]]
        }
        return .mapping(mapping)
    }

    /// Grafana's interval variables become a duration and the rest is checked as PromQL
    /// (variables inside label matchers are strings to PromQL and need nothing).
    public static func checkQuery(_ expr: String) -> PromQL.Problem? {
        var text = expr
        for variable in ["${__rate_interval}", "$__rate_interval", "${__interval}", "$__interval", "${__range}", "$__range"] {
            text = text.replacingAll(variable, with: "5m")
        }
        return PromQL.check(text)
    }
}

/// Panels placed left to right in rows of 24 columns, 8 rows high; a row header spans the width.
struct GridLayout {
    var x = 0
    var y = 0
    var nextID = 1
    let height = 8

    mutating func row(_ title: String) -> Node {
        if x > 0 { y += height; x = 0 }
        defer { y += 1; nextID += 1 }
        return ["type": "row", "id": .int(nextID), "title": .string(title), "collapsed": false, "panels": [], "gridPos": ["h": 1, "w": 24, "x": 0, "y": .int(y)]]
    }

    mutating func place(_ panel: Node, width: Int) -> Node {
        if x + width > 24 { y += height; x = 0 }
        guard case .mapping(var mapping) = panel else { return panel }
        var ordered = Mapping()
        ordered["id"] = .int(nextID)
        for entry in mapping { ordered[entry.key] = entry.value }
        ordered["gridPos"] = ["h": .int(height), "w": .int(width), "x": .int(x), "y": .int(y)]
        mapping = ordered
        nextID += 1
        x += width
        return .mapping(mapping)
    }
}

/// FNV-1a, 64 bit: a stable, dependency-free content hash for ids and change detection (not
/// security). The same bytes give the same value on every machine and run.
public struct FNV1a64: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
    }

    /// 16 lower-case hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
