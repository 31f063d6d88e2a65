public import DataTree

/// A structural OpenAPI v3 schema, the subset CustomResourceDefinitions use.
///
/// One value serves two purposes: it is emitted into the CRD (so the API server rejects bad
/// objects at admission), and `validate` checks documents against it offline with the same
/// rules (unknown fields, types, enums, ranges, required fields), reporting every problem with
/// its field path rather than stopping at the first.
public indirect enum Schema: Sendable, Hashable {
    case object(properties: [Property], required: [String] = [], description: String? = nil)
    /// A map with free keys and values of one schema (`additionalProperties`).
    case map(values: Schema, description: String? = nil)
    case array(items: Schema, description: String? = nil)
    case string(description: String? = nil, enumValues: [String]? = nil, pattern: String? = nil, check: StringCheck? = nil)
    case integer(description: String? = nil, minimum: Int? = nil, maximum: Int? = nil)
    case number(description: String? = nil, minimum: Double? = nil, maximum: Double? = nil)
    case boolean(description: String? = nil)
    case intOrString(description: String? = nil)
    /// Anything (`x-kubernetes-preserve-unknown-fields`); validated elsewhere.
    case any(description: String? = nil)
    /// A schema with CEL rules the API server checks at admission (`x-kubernetes-validations`),
    /// so a cluster rejects what netwatch's own semantic checks would reject later. Offline,
    /// those Swift checks apply and the rules are not evaluated here.
    case validated(Schema, rules: [ValidationRule])

    /// One `x-kubernetes-validations` entry: a CEL expression over `self` and its message.
    public struct ValidationRule: Sendable, Hashable {
        public var rule: String
        public var message: String

        public init(_ rule: String, message: String) {
            self.rule = rule
            self.message = message
        }
    }

    /// The schema without its admission rules.
    public var unvalidated: Schema {
        if case .validated(let inner, _) = self { return inner.unvalidated }
        return self
    }

    /// A named property of an object schema.
    public struct Property: Sendable, Hashable {
        public var name: String
        public var schema: Schema

        public init(_ name: String, _ schema: Schema) {
            self.name = name
            self.schema = schema
        }
    }

    /// A problem with a document, at a field path.
    public struct Violation: Sendable, Hashable {
        public var path: FieldPath
        public var message: String
    }

    /// Checks `node` against the schema; returns every violation found.
    public func validate(_ node: Node, at path: FieldPath = FieldPath()) -> [Violation] {
        var violations: [Violation] = []
        check(node, at: path, into: &violations)
        return violations
    }

    private func check(_ node: Node, at path: FieldPath, into violations: inout [Violation]) {
        func fail(_ message: String) { violations.append(Violation(path: path, message: message)) }
        if node == .null { return }  // null reads as absent, as for the API server
        switch self {
        case .object(let properties, let required, _):
            guard case .mapping(let mapping) = node else { return fail("expected a mapping, found \(node.kindDescription)") }
            for name in required where mapping[name] == nil || mapping[name] == .null {
                violations.append(Violation(path: path.appending(name), message: "required field is missing"))
            }
            for entry in mapping {
                guard let property = properties.first(where: { $0.name == entry.key }) else {
                    let known = properties.map(\.name).joined(separator: ", ")
                    violations.append(Violation(path: path.appending(entry.key), message: "unknown field \"\(entry.key)\"; known fields here: \(known)"))
                    continue
                }
                property.schema.check(entry.value, at: path.appending(entry.key), into: &violations)
            }
        case .map(let values, _):
            guard case .mapping(let mapping) = node else { return fail("expected a mapping, found \(node.kindDescription)") }
            for entry in mapping { values.check(entry.value, at: path.appending(entry.key), into: &violations) }
        case .array(let items, _):
            guard case .sequence(let elements) = node else { return fail("expected a list, found \(node.kindDescription)") }
            for (index, element) in elements.enumerated() { items.check(element, at: path.appending(index: index), into: &violations) }
        case .string(_, let enumValues, _, let stringCheck):
            guard case .string(let value) = node else {
                var message = "expected a string, found \(node.kindDescription)"
                if case .mapping = node {} else if case .sequence = node {} else { message += "; quote the value" }
                return fail(message)
            }
            if let enumValues, !enumValues.contains(value) {
                fail("\"\(value)\" is not one of: \(enumValues.joined(separator: ", "))")
            }
            if let stringCheck, let problem = stringCheck.check(value) { fail(problem) }
        case .integer(_, let minimum, let maximum):
            guard case .int(let value) = node else { return fail("expected an integer, found \(node.kindDescription)") }
            if let minimum, value < minimum { fail("\(value) is below the minimum \(minimum)") }
            if let maximum, value > maximum { fail("\(value) is above the maximum \(maximum)") }
        case .number(_, let minimum, let maximum):
            let value: Double
            switch node {
            case .int(let int): value = Double(int)
            case .double(let double): value = double
            default: return fail("expected a number, found \(node.kindDescription)")
            }
            if let minimum, value < minimum { fail("\(value) is below the minimum \(minimum)") }
            if let maximum, value > maximum { fail("\(value) is above the maximum \(maximum)") }
        case .boolean:
            guard case .bool = node else { return fail("expected true or false, found \(node.kindDescription)") }
        case .intOrString:
            switch node {
            case .int, .string: break
            default: fail("expected an integer or a string, found \(node.kindDescription)")
            }
        case .any:
            break
        case .validated(let inner, _):
            inner.check(node, at: path, into: &violations)
        }
    }

    /// The schema as an OpenAPI v3 `JSONSchemaProps` tree, for a CRD's `openAPIV3Schema`.
    public var openAPI: Node {
        if case .validated(let inner, let rules) = self {
            guard case .mapping(var mapping) = inner.openAPI else { return inner.openAPI }
            mapping["x-kubernetes-validations"] = .sequence(rules.map { ["rule": .string($0.rule), "message": .string($0.message)] })
            return .mapping(mapping)
        }
        var out = Mapping()
        func describe(_ description: String?) {
            if let description { out["description"] = .string(description) }
        }
        switch self {
        case .object(let properties, let required, let description):
            describe(description)
            out["type"] = "object"
            if !required.isEmpty { out["required"] = .strings(required) }
            var props = Mapping()
            for property in properties { props.appendUnchecked(property.name, property.schema.openAPI) }
            if !properties.isEmpty { out["properties"] = .mapping(props) }
        case .map(let values, let description):
            describe(description)
            out["type"] = "object"
            out["additionalProperties"] = values.openAPI
        case .array(let items, let description):
            describe(description)
            out["type"] = "array"
            out["items"] = items.openAPI
        case .string(let description, let enumValues, let pattern, let stringCheck):
            describe(description)
            out["type"] = "string"
            if let enumValues { out["enum"] = .strings(enumValues) }
            if let pattern = pattern ?? stringCheck?.pattern { out["pattern"] = .string(pattern) }
        case .integer(let description, let minimum, let maximum):
            describe(description)
            out["type"] = "integer"
            if let minimum { out["minimum"] = .int(minimum) }
            if let maximum { out["maximum"] = .int(maximum) }
        case .number(let description, let minimum, let maximum):
            describe(description)
            out["type"] = "number"
            if let minimum { out["minimum"] = .double(minimum) }
            if let maximum { out["maximum"] = .double(maximum) }
        case .boolean(let description):
            describe(description)
            out["type"] = "boolean"
        case .intOrString(let description):
            describe(description)
            out["x-kubernetes-int-or-string"] = true
        case .any(let description):
            describe(description)
            out["x-kubernetes-preserve-unknown-fields"] = true
        case .validated:
            break  // handled above
        }
        return .mapping(out)
    }
}

/// A precise check of a string's content, beyond what a CRD pattern can say. `pattern`, when
/// set, is what the CRD carries so the API server applies an equivalent check at admission.
public struct StringCheck: Sendable, Hashable {
    public var name: String
    public var pattern: String?
    public var check: @Sendable (String) -> String?

    public init(name: String, pattern: String? = nil, check: @escaping @Sendable (String) -> String?) {
        self.name = name
        self.pattern = pattern
        self.check = check
    }

    public static func == (lhs: StringCheck, rhs: StringCheck) -> Bool { lhs.name == rhs.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

extension Schema {
    /// The schema of `metav1.LabelSelector`.
    public static func labelSelector(_ description: String) -> Schema {
        .object(
            properties: [
                .init("matchLabels", .map(values: .string(), description: "Labels that must all be present with these values.")),
                .init("matchExpressions", .array(items: .object(
                    properties: [
                        .init("key", .string(description: "The label key.")),
                        .init("operator", .string(description: "How the key relates to the values.", enumValues: LabelSelector.Operator.allCases.map(\.rawValue))),
                        .init("values", .array(items: .string(), description: "Values for In and NotIn; empty for Exists and DoesNotExist.")),
                    ],
                    required: ["key", "operator"]
                ), description: "Set-based requirements, all of which must hold.")),
            ],
            description: description
        )
    }
}
