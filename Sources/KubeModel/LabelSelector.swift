/// A Kubernetes label selector (`matchLabels` + `matchExpressions`) with the API server's
/// semantics: all requirements must hold; an empty selector matches everything.
public struct LabelSelector: Sendable, Hashable, Decodable {
    public enum Operator: String, Sendable, Hashable, Decodable, CaseIterable {
        case `in` = "In"
        case notIn = "NotIn"
        case exists = "Exists"
        case doesNotExist = "DoesNotExist"
    }

    public struct Requirement: Sendable, Hashable, Decodable {
        public var key: String
        public var `operator`: Operator
        public var values: [String]

        public init(key: String, operator: Operator, values: [String] = []) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }

        private enum CodingKeys: String, CodingKey { case key, `operator`, values }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            key = try container.decode(String.self, forKey: .key)
            `operator` = try container.decode(Operator.self, forKey: .operator)
            values = try container.decodeIfPresent([String].self, forKey: .values) ?? []
        }

        /// `In` needs the key with one of the values; `NotIn` holds when the key is absent or
        /// has another value; `Exists`/`DoesNotExist` test the key only.
        public func matches(_ labels: [String: String]) -> Bool {
            switch self.operator {
            case .in: labels[key].map(values.contains) ?? false
            case .notIn: labels[key].map { !values.contains($0) } ?? true
            case .exists: labels[key] != nil
            case .doesNotExist: labels[key] == nil
            }
        }
    }

    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    private enum CodingKeys: String, CodingKey { case matchLabels, matchExpressions }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        matchLabels = try container.decodeIfPresent([String: String].self, forKey: .matchLabels) ?? [:]
        matchExpressions = try container.decodeIfPresent([Requirement].self, forKey: .matchExpressions) ?? []
    }

    /// Whether the selector has no requirements (and so matches every object).
    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels where labels[key] != value { return false }
        return matchExpressions.allSatisfy { $0.matches(labels) }
    }

    /// Problems the API server would reject: `In`/`NotIn` without values, `Exists`/`DoesNotExist`
    /// with values, invalid label keys or values. Each comes with its field path below `path`.
    public func validate(at path: String) -> [(path: String, message: String)] {
        var problems: [(String, String)] = []
        for key in matchLabels.keys.sorted() {
            if let problem = LabelValidation.keyProblem(key) { problems.append(("\(path).matchLabels", problem)) }
            if let value = matchLabels[key], let problem = LabelValidation.valueProblem(value) {
                problems.append(("\(path).matchLabels.\(key)", problem))
            }
        }
        for (index, requirement) in matchExpressions.enumerated() {
            let here = "\(path).matchExpressions[\(index)]"
            if let problem = LabelValidation.keyProblem(requirement.key) { problems.append(("\(here).key", problem)) }
            switch requirement.operator {
            case .in, .notIn:
                if requirement.values.isEmpty {
                    problems.append(("\(here).values", "operator \(requirement.operator.rawValue) needs at least one value"))
                }
            case .exists, .doesNotExist:
                if !requirement.values.isEmpty {
                    problems.append(("\(here).values", "operator \(requirement.operator.rawValue) takes no values; remove them"))
                }
            }
        }
        return problems
    }
}

/// The syntax rules of label keys and values (k8s.io/apimachinery validation).
public enum LabelValidation {
    /// A qualified name: optional DNS-subdomain prefix and `/`, then 1–63 characters of
    /// `[A-Za-z0-9._-]` starting and ending alphanumeric.
    public static func keyProblem(_ key: String) -> String? {
        var name = Substring(key)
        if let slash = key.lastIndex(of: "/") {
            let prefix = key[..<slash]
            name = key[key.index(after: slash)...]
            if prefix.isEmpty || prefix.count > 253 || !prefix.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }) {
                return "label key \"\(key)\" has an invalid prefix: use a lower-case DNS subdomain such as example.com"
            }
        }
        if name.isEmpty || name.count > 63 || !isNamePart(name) {
            return "label key \"\(key)\" is invalid: use up to 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        }
        return nil
    }

    /// Empty, or 1–63 characters of `[A-Za-z0-9._-]` starting and ending alphanumeric.
    public static func valueProblem(_ value: String) -> String? {
        if value.isEmpty { return nil }
        if value.count > 63 || !isNamePart(Substring(value)) {
            return "label value \"\(value)\" is invalid: use up to 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        }
        return nil
    }

    private static func isNamePart(_ text: Substring) -> Bool {
        guard let first = text.first, let last = text.last else { return false }
        let alnum: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber) }
        return alnum(first) && alnum(last) && text.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }
}
