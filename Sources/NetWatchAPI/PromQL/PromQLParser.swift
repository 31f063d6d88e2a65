import Foundation

/// A PromQL parser that gives the verdict `promtool check rules` gives: syntax, vector-selector
/// rules, regex syntax (RE2), durations, function signatures and the type rules of binary
/// operators, aggregations, ranges, subqueries, `offset` and `@` (Prometheus 2.42,
/// `promql/parser`). It builds no tree: rules are only checked, never evaluated, here.
///
/// Guarantees: never crashes or loops on any input (fuzzed); returns nil for a valid
/// expression, else the first problem with its byte offset.
public enum PromQL {
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        /// Byte offset into the expression.
        public var offset: Int
        public var description: String { "\(message) (at byte \(offset))" }
    }

    /// Checks an expression; nil when Prometheus would accept it.
    public static func check(_ expression: String) -> Problem? {
        var lexer = PromQLLexer(expression)
        let tokens: [PromQLToken]
        do throws(PromQLLexer.Failure) {
            tokens = try lexer.tokens()
        } catch {
            return Problem(message: error.message, offset: error.offset)
        }
        var parser = PromQLParser(tokens: tokens)
        do throws(Problem) {
            _ = try parser.parseExpression(minimumPrecedence: 0)
            guard case .end = parser.current.kind else { throw parser.unexpected("end of expression") }
            return nil
        } catch {
            return error
        }
    }
}

struct PromQLParser {
    typealias Problem = PromQL.Problem

    /// What an operand is, as far as the rules above care.
    struct Value {
        var type: PromQLType
        /// A plain vector selector (ranges and `offset`/`@` apply), or a matrix/subquery (`offset`/`@` apply).
        var isSelector = false
        var isNumberLiteral = false
    }

    let tokens: [PromQLToken]
    var index = 0
    /// Nesting depth, bounded so hostile input cannot exhaust the stack.
    var depth = 0

    init(tokens: [PromQLToken]) { self.tokens = tokens }

    var current: PromQLToken { tokens[index] }
    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    func unexpected(_ expected: String) -> Problem {
        let found: String = switch current.kind {
        case .end: "end of input"
        case .identifier(let name): "\"\(name)\""
        case .number: "number"
        case .duration(let text): "duration \"\(text)\""
        case .string: "string"
        case .symbol(let symbol): "\"\(symbol)\""
        }
        return Problem(message: "unexpected \(found), expected \(expected)", offset: current.offset)
    }

    func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }
    func isKeyword(_ word: String) -> Bool {
        if case .identifier(let name) = current.kind { return name.equalsIgnoringASCIICase(word) }
        return false
    }

    mutating func expect(_ symbol: String) throws(Problem) {
        guard isSymbol(symbol) else { throw unexpected("\"\(symbol)\"") }
        advance()
    }

    // MARK: binary operators

    static let precedence: [String: Int] = [
        "or": 1, "and": 2, "unless": 2,
        "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3,
        "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6,
    ]
    static let comparisons: Set<String> = ["==", "!=", "<", "<=", ">", ">="]
    static let setOperators: Set<String> = ["and", "or", "unless"]

    func binaryOperator() -> String? {
        switch current.kind {
        case .symbol(let symbol) where Self.precedence[symbol] != nil: symbol
        case .identifier(let word) where ["and", "or", "unless", "atan2"].contains(word.lowercased()): word.lowercased()
        default: nil
        }
    }

    mutating func parseExpression(minimumPrecedence: Int) throws(Problem) -> Value {
        depth += 1
        defer { depth -= 1 }
        guard depth < 200 else { throw Problem(message: "expression nested too deeply", offset: current.offset) }
        var left = try parseUnary()
        while let op = binaryOperator(), let precedence = Self.precedence[op], precedence > minimumPrecedence {
            let operatorOffset = current.offset
            advance()
            var returnBool = false
            if isKeyword("bool") {
                guard Self.comparisons.contains(op) else { throw Problem(message: "bool modifier can only be used on comparison operators", offset: current.offset) }
                returnBool = true
                advance()
            }
            var matching = false
            var grouping = false
            if isKeyword("on") || isKeyword("ignoring") {
                matching = true
                advance()
                try parseLabelList()
                if isKeyword("group_left") || isKeyword("group_right") {
                    grouping = true
                    advance()
                    if isSymbol("(") { try parseLabelList() }
                }
            }
            // ^ is right-associative: the right side may contain another ^.
            let right = try parseExpression(minimumPrecedence: op == "^" ? precedence - 1 : precedence)
            left = try combine(left, op, right, returnBool: returnBool, matching: matching, grouping: grouping, at: operatorOffset)
        }
        return left
    }

    func combine(_ left: Value, _ op: String, _ right: Value, returnBool: Bool, matching: Bool, grouping: Bool, at offset: Int) throws(Problem) -> Value {
        for side in [left, right] where side.type != .scalar && side.type != .vector {
            throw Problem(message: "binary expression must contain only scalar and instant vector types", offset: offset)
        }
        let bothVectors = left.type == .vector && right.type == .vector
        if (matching || grouping) && !bothVectors {
            throw Problem(message: "vector matching only allowed between instant vectors", offset: offset)
        }
        if Self.setOperators.contains(op) {
            if !bothVectors { throw Problem(message: "set operator \"\(op)\" not allowed in binary scalar expression", offset: offset) }
            if grouping { throw Problem(message: "no grouping allowed for \"\(op)\" operation", offset: offset) }
        }
        if Self.comparisons.contains(op), left.type == .scalar, right.type == .scalar, !returnBool {
            throw Problem(message: "comparisons between scalars must use BOOL modifier", offset: offset)
        }
        return Value(type: left.type == .scalar && right.type == .scalar ? .scalar : .vector)
    }

    mutating func parseUnary() throws(Problem) -> Value {
        if isSymbol("-") || isSymbol("+") {
            let offset = current.offset
            advance()
            // Unary minus binds looser than ^ (-2^2 is -4), tighter than * and /.
            let operand = try parseExpression(minimumPrecedence: 5)
            guard operand.type == .scalar || operand.type == .vector else {
                throw Problem(message: "unary expression only allowed on expressions of type scalar or instant vector", offset: offset)
            }
            return Value(type: operand.type, isNumberLiteral: operand.isNumberLiteral)
        }
        var value = try parsePrimary()
        return try parsePostfix(&value)
    }

    // MARK: postfix: [range], [range:step], offset, @

    mutating func parsePostfix(_ value: inout Value) throws(Problem) -> Value {
        while true {
            if isSymbol("[") {
                let offset = current.offset
                advance()
                guard case .duration(let range) = current.kind else { throw unexpected("a duration like 5m") }
                advance()
                if isSymbol(":") {
                    advance()
                    if case .duration = current.kind { advance() }
                    try expect("]")
                    guard value.type == .vector else {
                        throw Problem(message: "subquery is only allowed on instant vector, got \(value.type.rawValue) instead", offset: offset)
                    }
                    _ = range
                    value = Value(type: .matrix, isSelector: true)
                } else {
                    try expect("]")
                    guard value.type == .vector, value.isSelector else {
                        throw Problem(message: "ranges only allowed for vector selectors", offset: offset)
                    }
                    value = Value(type: .matrix, isSelector: true)
                }
            } else if isKeyword("offset") {
                let offset = current.offset
                advance()
                if isSymbol("-") { advance() }
                guard case .duration = current.kind else { throw unexpected("a duration like 5m") }
                advance()
                guard value.isSelector else { throw Problem(message: "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery", offset: offset) }
            } else if isSymbol("@") {
                let offset = current.offset
                advance()
                if isKeyword("start") || isKeyword("end") {
                    advance()
                    try expect("(")
                    try expect(")")
                } else {
                    if isSymbol("-") || isSymbol("+") { advance() }
                    guard case .number(let time) = current.kind else { throw unexpected("a timestamp, start() or end()") }
                    guard time.isFinite else { throw Problem(message: "timestamp out of bounds for @ modifier: \(time)", offset: current.offset) }
                    advance()
                }
                guard value.isSelector else { throw Problem(message: "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery", offset: offset) }
            } else {
                return value
            }
        }
    }

    // MARK: primaries

    mutating func parsePrimary() throws(Problem) -> Value {
        switch current.kind {
        case .number:
            advance()
            return Value(type: .scalar, isNumberLiteral: true)
        case .string:
            advance()
            return Value(type: .string)
        case .symbol("("):
            advance()
            let inner = try parseExpression(minimumPrecedence: 0)
            try expect(")")
            return Value(type: inner.type, isNumberLiteral: inner.isNumberLiteral)
        case .symbol("{"):
            try parseSelector(name: nil, at: current.offset)
            return Value(type: .vector, isSelector: true)
        case .identifier(let name):
            let offset = current.offset
            advance()
            let lowered = name.lowercased()
            if PromQLFunction.aggregations.contains(lowered) && (isSymbol("(") || isKeyword("by") || isKeyword("without")) {
                return try parseAggregation(lowered, at: offset)
            }
            if isSymbol("(") {
                return try parseCall(name, at: offset)
            }
            // Prometheus's grammar accepts most keywords as metric names (`by`, `offset`, `and`),
            // but not these.
            if ["on", "ignoring", "group_left", "group_right", "bool"].contains(lowered) {
                throw Problem(message: "unexpected \(lowered) in expression", offset: offset)
            }
            try parseSelector(name: name, at: offset)
            return Value(type: .vector, isSelector: true)
        default:
            throw unexpected("an expression")
        }
    }

    mutating func parseCall(_ name: String, at offset: Int) throws(Problem) -> Value {
        guard let function = PromQLFunction.table[name] else {
            throw Problem(message: "unknown function with name \"\(name)\"", offset: offset)
        }
        try expect("(")
        var arguments: [Value] = []
        if !isSymbol(")") {
            arguments.append(try parseExpression(minimumPrecedence: 0))
            while isSymbol(",") {
                advance()
                if isSymbol(")") { break }  // a trailing comma is accepted
                arguments.append(try parseExpression(minimumPrecedence: 0))
            }
        }
        try expect(")")
        let declared = function.arguments.count
        if function.variadic == 0 {
            guard declared == arguments.count else {
                throw Problem(message: "expected \(declared) argument(s) in call to \"\(name)\", got \(arguments.count)", offset: offset)
            }
        } else {
            let minimum = declared - 1
            if minimum > arguments.count {
                throw Problem(message: "expected at least \(minimum) argument(s) in call to \"\(name)\", got \(arguments.count)", offset: offset)
            }
            if function.variadic > 0, minimum + function.variadic < arguments.count {
                throw Problem(message: "expected at most \(minimum + function.variadic) argument(s) in call to \"\(name)\", got \(arguments.count)", offset: offset)
            }
        }
        for (position, argument) in arguments.enumerated() {
            let expected = function.arguments[min(position, declared - 1)]
            guard argument.type == expected else {
                throw Problem(message: "expected type \(expected.rawValue) in call to function \"\(name)\", got \(argument.type.rawValue)", offset: offset)
            }
        }
        return Value(type: function.returns)
    }

    mutating func parseAggregation(_ name: String, at offset: Int) throws(Problem) -> Value {
        var grouped = false
        if isKeyword("by") || isKeyword("without") {
            advance()
            try parseLabelList()
            grouped = true
        }
        try expect("(")
        var arguments: [Value] = []
        if !isSymbol(")") {
            arguments.append(try parseExpression(minimumPrecedence: 0))
            while isSymbol(",") {
                advance()
                if isSymbol(")") { break }
                arguments.append(try parseExpression(minimumPrecedence: 0))
            }
        }
        try expect(")")
        if isKeyword("by") || isKeyword("without") {
            guard !grouped else { throw Problem(message: "aggregation must only contain one grouping clause", offset: current.offset) }
            advance()
            try parseLabelList()
        }
        let takesParameter = ["count_values", "bottomk", "topk", "quantile"].contains(name)
        guard arguments.count == (takesParameter ? 2 : 1) else {
            throw Problem(message: "wrong number of arguments for aggregate expression provided, expected \(takesParameter ? 2 : 1), got \(arguments.count)", offset: offset)
        }
        if takesParameter {
            let expected: PromQLType = name == "count_values" ? .string : .scalar
            guard arguments[0].type == expected else {
                throw Problem(message: "expected type \(expected.rawValue) in aggregation parameter, got \(arguments[0].type.rawValue)", offset: offset)
            }
        }
        guard let vector = arguments.last, vector.type == .vector else {
            throw Problem(message: "expected type instant vector in aggregation expression, got \(arguments.last?.type.rawValue ?? "nothing")", offset: offset)
        }
        return Value(type: .vector)
    }

    /// `(label, label, ...)`; keywords are label names here too; a trailing comma is accepted.
    mutating func parseLabelList() throws(Problem) {
        try expect("(")
        while !isSymbol(")") {
            guard case .identifier(let name) = current.kind else { throw unexpected("a label name") }
            guard PrometheusLabel.isValidName(name) else { throw Problem(message: "invalid label name \"\(name)\"", offset: current.offset) }
            advance()
            if isSymbol(",") { advance() } else if !isSymbol(")") { throw unexpected("\",\" or \")\"") }
        }
        advance()
    }

    /// `name`, `name{matchers}` or `{matchers}`.
    mutating func parseSelector(name: String?, at offset: Int) throws(Problem) {
        var hasName = name != nil
        var nonEmpty = name != nil
        if isSymbol("{") {
            advance()
            while !isSymbol("}") {
                guard case .identifier(let label) = current.kind else { throw unexpected("a label matcher") }
                let labelOffset = current.offset
                advance()
                guard case .symbol(let op) = current.kind, ["=", "!=", "=~", "!~"].contains(op) else { throw unexpected("a label matching operator") }
                advance()
                guard case .string(let value) = current.kind else { throw unexpected("a quoted label value") }
                let valueOffset = current.offset
                advance()
                if op == "=~" || op == "!~", let problem = RE2Syntax.check(value) {
                    throw Problem(message: "error parsing regexp: \(problem)", offset: valueOffset)
                }
                if label == "__name__" {
                    if hasName, name != nil { throw Problem(message: "metric name must not be set twice: \"\(name ?? "")\" or \"\(value)\"", offset: labelOffset) }
                    hasName = true
                }
                if !Self.matchesEmpty(op, value) { nonEmpty = true }
                if isSymbol(",") { advance() } else if !isSymbol("}") { throw unexpected("\",\" or \"}\"") }
            }
            advance()
        }
        guard nonEmpty else {
            throw Problem(message: "vector selector must contain at least one non-empty matcher", offset: offset)
        }
    }

    /// Whether a matcher accepts the empty string (then it does not count as "non-empty").
    /// Regexes are anchored as Prometheus anchors them; RE2 syntax already passed, and for
    /// matching the empty string ICU agrees with RE2.
    static func matchesEmpty(_ op: String, _ value: String) -> Bool {
        switch op {
        case "=": return value.isEmpty
        case "!=": return !value.isEmpty
        case "=~": return regexMatchesEmpty(value)
        default: return !regexMatchesEmpty(value)
        }
    }

    static func regexMatchesEmpty(_ pattern: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return false }
        return regex.firstMatch(in: "", range: NSRange(location: 0, length: 0)) != nil
    }
}
