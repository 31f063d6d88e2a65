public import KubeModel

/// Which namespaces something applies to: `any: true`, a list of names, or a label selector on
/// Namespace objects. Absent (nil where it is used) means the object's own namespace.
public struct NamespaceSelector: Sendable, Hashable, Decodable {
    public var any: Bool
    public var matchNames: [String]
    public var labelSelector: LabelSelector

    public init(any: Bool = false, matchNames: [String] = [], labelSelector: LabelSelector = LabelSelector()) {
        self.any = any
        self.matchNames = matchNames
        self.labelSelector = labelSelector
    }

    private enum CodingKeys: String, CodingKey { case any, matchNames }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        any = try container.decodeIfPresent(Bool.self, forKey: .any) ?? false
        matchNames = try container.decodeIfPresent([String].self, forKey: .matchNames) ?? []
        labelSelector = try LabelSelector(from: decoder)
    }

    /// Whether a namespace with this name and these labels is selected.
    public func matches(name: String, labels: [String: String]) -> Bool {
        if any { return true }
        if !matchNames.isEmpty { return matchNames.contains(name) }
        return labelSelector.matches(labels)
    }

    /// Whether the selector names its namespaces outright (so no Namespace objects are needed).
    public var isByName: Bool { !any && !matchNames.isEmpty }

    func problems(at path: String) -> [(String, String)] {
        let kinds = [any, !matchNames.isEmpty, !labelSelector.isEmpty].filter { $0 }.count
        if kinds > 1 {
            return [(path, "use only one of any, matchNames, or matchLabels/matchExpressions")]
        }
        return labelSelector.validate(at: path)
    }

    static func schema(_ description: String) -> Schema {
        guard case .object(let selectorProperties, _, _) = Schema.labelSelector("") else { return .any() }
        return .object(
            properties: [
                .init("any", .boolean(description: "Select all namespaces.")),
                .init("matchNames", .array(items: .string(), description: "Select these namespaces by name.")),
            ] + selectorProperties,
            description: description
        )
    }
}
