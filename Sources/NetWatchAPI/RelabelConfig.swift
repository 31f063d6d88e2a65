public import DataTree
import KubeModel

/// One Prometheus relabeling step, in prometheus-operator's camelCase form.
public struct RelabelConfig: Sendable, Hashable, Decodable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case replace, keep, drop, hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase, keepequal, dropequal
    }

    public var sourceLabels: [String]?
    public var separator: String?
    public var targetLabel: String?
    public var regex: String?
    public var modulus: Int?
    public var replacement: String?
    /// Lower-cased on decode; Prometheus accepts any case.
    public var action: Action?

    public init(
        sourceLabels: [String]? = nil, separator: String? = nil, targetLabel: String? = nil, regex: String? = nil, modulus: Int? = nil,
        replacement: String? = nil, action: Action? = nil
    ) {
        self.sourceLabels = sourceLabels
        self.separator = separator
        self.targetLabel = targetLabel
        self.regex = regex
        self.modulus = modulus
        self.replacement = replacement
        self.action = action
    }

    private enum CodingKeys: String, CodingKey { case sourceLabels, separator, targetLabel, regex, modulus, replacement, action }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sourceLabels = try container.decodeIfPresent([String].self, forKey: .sourceLabels)
        separator = try container.decodeIfPresent(String.self, forKey: .separator)
        targetLabel = try container.decodeIfPresent(String.self, forKey: .targetLabel)
        regex = try container.decodeIfPresent(String.self, forKey: .regex)
        modulus = try container.decodeIfPresent(Int.self, forKey: .modulus)
        replacement = try container.decodeIfPresent(String.self, forKey: .replacement)
        if let raw = try container.decodeIfPresent(String.self, forKey: .action) {
            guard let action = Action(rawValue: raw.lowercased()) else {
                throw NodeDecodingError(path: FieldPath(), message: "unknown relabel action \"\(raw)\"")
            }
            self.action = action
        }
    }

    static let schema: Schema = .object(properties: [
        .init("sourceLabels", .array(items: .string(), description: "Labels whose values are joined with separator and matched against regex.")),
        .init("separator", .string(description: "Separator between source label values (default ';').")),
        .init("targetLabel", .string(description: "Label written by replace, hashmod, lowercase and uppercase.")),
        .init("regex", .string(description: "RE2 regular expression, anchored at both ends (default '(.*)').")),
        .init("modulus", .integer(description: "Modulus for hashmod.", minimum: 1)),
        .init("replacement", .string(description: "Replacement for replace and labelmap; $1 refers to the first group (default '$1').")),
        .init("action", .string(
            description: "What to do; any case is accepted.",
            enumValues: Action.allCases.flatMap { [$0.rawValue, $0.rawValue.prefix(1).uppercased() + $0.rawValue.dropFirst()] }.uniqued())),
    ])

    /// Checks the step the way Prometheus would when loading it; returns (field, message) pairs.
    func problems(at path: String) -> [(String, String)] {
        var problems: [(String, String)] = []
        let action = action ?? .replace
        if let regex, let problem = RE2Syntax.checkRelabelRegex(regex) {
            problems.append(("\(path).regex", "Prometheus cannot compile this regex: \(problem)"))
        }
        for (index, label) in (sourceLabels ?? []).enumerated() where !PrometheusLabel.isValidName(label) {
            problems.append(("\(path).sourceLabels[\(index)]", "\"\(label)\" is not a valid label name; use [a-zA-Z_][a-zA-Z0-9_]*"))
        }
        switch action {
        case .replace, .hashmod, .lowercase, .uppercase, .keepequal, .dropequal:
            guard let target = targetLabel, !target.isEmpty else {
                problems.append(("\(path).targetLabel", "action \(action.rawValue) needs a targetLabel"))
                break
            }
            let valid = action == .replace ? PrometheusLabel.isValidTemplate(target) : PrometheusLabel.isValidName(target)
            if !valid { problems.append(("\(path).targetLabel", "\"\(target)\" is not a valid label name for action \(action.rawValue)")) }
        default:
            break
        }
        if action == .hashmod, (modulus ?? 0) < 1 {
            problems.append(("\(path).modulus", "action hashmod needs a modulus of at least 1"))
        }
        if [.keepequal, .dropequal].contains(action), regex != nil {
            problems.append(("\(path).regex", "action \(action.rawValue) does not take a regex; remove it"))
        }
        if [.labeldrop, .labelkeep].contains(action), sourceLabels != nil || targetLabel != nil {
            problems.append(("\(path)", "action \(action.rawValue) uses only regex; remove sourceLabels and targetLabel"))
        }
        return problems
    }

    /// The step in Prometheus's snake_case form, fields in Prometheus's documented order.
    public var prometheusNode: Node {
        var mapping = Mapping()
        if let sourceLabels { mapping["source_labels"] = .strings(sourceLabels) }
        if let separator { mapping["separator"] = .string(separator) }
        if let regex { mapping["regex"] = .string(regex) }
        if let modulus { mapping["modulus"] = .int(modulus) }
        if let targetLabel { mapping["target_label"] = .string(targetLabel) }
        if let replacement { mapping["replacement"] = .string(replacement) }
        if let action { mapping["action"] = .string(action.rawValue) }
        return .mapping(mapping)
    }
}

/// Prometheus label-name rules.
public enum PrometheusLabel {
    /// `[a-zA-Z_][a-zA-Z0-9_]*`
    public static func isValidName(_ name: String) -> Bool {
        isValid(name, colons: false)
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValidMetricName(_ name: String) -> Bool {
        isValid(name, colons: true)
    }

    /// Checked on UTF-8 bytes: every allowed character is ASCII, and a byte of a multi-byte
    /// character is never ASCII, so no Unicode property lookup is needed.
    private static func isValid(_ name: String, colons: Bool) -> Bool {
        var first = true
        for byte in name.utf8 {
            let letter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            let allowed = letter || byte == UInt8(ascii: "_") || (colons && byte == UInt8(ascii: ":"))
                || (!first && byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            guard allowed else { return false }
            first = false
        }
        return !first
    }

    /// A replace target may contain `$1` / `${name}` references: Prometheus accepts
    /// `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`. Approximated by removing references and
    /// checking what remains is made of name characters.
    public static func isValidTemplate(_ target: String) -> Bool {
        let scalars = Array(target.unicodeScalars)
        guard !scalars.isEmpty else { return false }
        if let first = scalars.first, ("0"..."9").contains(first) { return false }
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "$" {
                if index + 1 < scalars.count, scalars[index + 1] == "{" {
                    guard let close = scalars[(index + 2)...].firstIndex(of: "}"), close > index + 2 else { return false }
                    index = close + 1
                    continue
                }
                guard index + 1 < scalars.count, isWord(scalars[index + 1]) else { return false }
                index += 1
                continue
            }
            guard isWord(scalar) else { return false }
            index += 1
        }
        return true
    }

    private static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
