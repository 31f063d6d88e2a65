import DataTree
import Foundation

/// The string forms of label and field selectors (`app=web,tier in (a,b),!legacy`), parsed and
/// matched as the API server does.
struct LabelSelectorQuery: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    var requirements: [Requirement]

    struct ParseError: Error { var message: String }

    init(parsing text: String) throws(ParseError) {
        requirements = []
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        for raw in parts {
            let part = raw.trimmingSpaces()
            if part.isEmpty { continue }
            requirements.append(try Self.requirement(part))
        }
    }

    private static func requirement(_ part: String) throws(ParseError) -> Requirement {
        if part.hasPrefix("!") { return .doesNotExist(String(part.dropFirst()).trimmingSpaces()) }
        for (op, make) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] as [(String, (String, String) -> Requirement)] {
            if let range = part.range(of: op) {
                return make(String(part[..<range.lowerBound]).trimmingSpaces(), String(part[range.upperBound...]).trimmingSpaces())
            }
        }
        let words = part.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2 {
            let rest = words[1].trimmingSpaces()
            for (op, isIn) in [("notin", false), ("in", true)] where rest.hasPrefix(op) {
                let list = rest.dropFirst(op.count).trimmingSpaces()
                guard list.hasPrefix("("), list.hasSuffix(")") else { throw ParseError(message: "expected a parenthesised list after \(op) in \"\(part)\"") }
                let values = Set(list.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingSpaces() })
                return isIn ? .in(words[0], values) : .notIn(words[0], values)
            }
            throw ParseError(message: "unknown operator in \"\(part)\"")
        }
        return .exists(part)
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .in(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): labels[key].map { !values.contains($0) } ?? true
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            }
        }
    }
}

/// `metadata.name=x,status.phase!=Running`: any dotted path into the object, compared as text.
struct FieldSelectorQuery: Sendable {
    var requirements: [(path: [String], value: String, equal: Bool)]

    init(parsing text: String) throws(LabelSelectorQuery.ParseError) {
        requirements = []
        for raw in text.split(separator: ",") {
            let part = String(raw).trimmingSpaces()
            if part.isEmpty { continue }
            let (op, equal): (String, Bool) = part.contains("!=") ? ("!=", false) : (part.contains("==") ? "==" : "=", true)
            guard let range = part.range(of: op) else { throw .init(message: "field selector \"\(part)\" needs =, == or !=") }
            let path = part[..<range.lowerBound].split(separator: ".").map(String.init)
            requirements.append((path, String(part[range.upperBound...]), equal))
        }
    }

    var isEmpty: Bool { requirements.isEmpty }

    func matches(_ object: Node) -> Bool {
        requirements.allSatisfy { requirement in
            var node: Node? = object
            for key in requirement.path { node = node?[key] }
            let text: String = switch node {
            case .string(let value)?: value
            case .bool(let value)?: String(value)
            case .int(let value)?: String(value)
            default: ""
            }
            return (text == requirement.value) == requirement.equal
        }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
