/// Checks regular expressions against the syntax of Go's `regexp/syntax` (RE2), the engine
/// Prometheus compiles relabel regexes with, so an expression Prometheus would reject becomes a
/// diagnostic instead of a config Prometheus refuses to load.
///
/// Prometheus anchors every relabel regex as `^(?:` + regex + `)$`; `checkRelabelRegex` checks
/// exactly that string. Constructs Go rejects and other engines accept are errors here too:
/// look-arounds, backreferences, possessive and nested repetition, repetition counts over 1000,
/// unknown escapes and `(?<name>…)` (accepted only by Go ≥ 1.22; Prometheus builds vary).
public enum RE2Syntax {
    /// The problem Prometheus would report for this relabel regex, or nil when it compiles.
    public static func checkRelabelRegex(_ regex: String) -> String? {
        check("^(?:" + regex + ")$")
    }

    /// The problem with a complete expression, or nil when Go's parser accepts it.
    public static func check(_ expression: String) -> String? {
        var parser = Parser(Array(expression.unicodeScalars))
        do {
            try parser.parse()
            return nil
        } catch {
            return error.message
        }
    }

    struct SyntaxError: Error {
        var message: String
    }

    private struct Parser {
        let text: [Unicode.Scalar]
        var index = 0
        /// Whether the item just parsed can take a repetition operator.
        var lastWasOperand = false
        /// Whether the item just parsed was itself a repetition.
        var lastWasRepetition = false
        var depth = 0

        init(_ text: [Unicode.Scalar]) {
            self.text = text
        }

        var atEnd: Bool { index >= text.count }
        func peek(_ offset: Int = 0) -> Unicode.Scalar? { index + offset < text.count ? text[index + offset] : nil }

        mutating func parse() throws(SyntaxError) {
            while let scalar = peek() {
                switch scalar {
                case "(":
                    try openGroup()
                case ")":
                    guard depth > 0 else { throw SyntaxError(message: "unexpected ): the expression has more ')' than '('") }
                    depth -= 1
                    index += 1
                    operand()
                case "|":
                    index += 1
                    lastWasOperand = false
                    lastWasRepetition = false
                case "*", "+", "?":
                    try repetition(String(scalar))
                    index += 1
                    if peek() == "?" { index += 1 }  // lazy form
                case "{":
                    if let length = countedRepetitionLength() {
                        try checkCount(at: index, length: length)
                        try repetition(String(String.UnicodeScalarView(text[index..<index + length])))
                        index += length
                        if peek() == "?" { index += 1 }
                    } else {
                        index += 1  // a '{' that does not start a valid count is a literal
                        operand()
                    }
                case "[":
                    try characterClass()
                    operand()
                case "\\":
                    try escape(inClass: false)
                default:
                    index += 1
                    operand()
                }
            }
            if depth > 0 { throw SyntaxError(message: "missing closing ): add ')' to close every '('") }
        }

        mutating func operand() {
            lastWasOperand = true
            lastWasRepetition = false
        }

        mutating func repetition(_ op: String) throws(SyntaxError) {
            if lastWasRepetition {
                throw SyntaxError(message: "invalid nested repetition operator: \(op) follows another repetition; RE2 has no possessive quantifiers")
            }
            guard lastWasOperand else {
                throw SyntaxError(message: "missing argument to repetition operator: \(op) has nothing before it to repeat")
            }
            lastWasOperand = false
            lastWasRepetition = true
        }

        mutating func openGroup() throws(SyntaxError) {
            index += 1
            guard peek() == "?" else {
                depth += 1
                lastWasOperand = false
                lastWasRepetition = false
                return
            }
            index += 1
            if peek() == "P", peek(1) == "<" {
                index += 2
                try groupName()
                depth += 1
            } else if peek() == "<" {
                let next = peek(1)
                if next == "=" || next == "!" {
                    throw SyntaxError(message: "invalid or unsupported Perl syntax: look-behind (?<\(next.map(String.init) ?? "")...) is not supported by RE2")
                }
                throw SyntaxError(message: "invalid named capture: use (?P<name>...); (?<name>...) needs Go 1.22 or later")
            } else if peek() == "=" || peek() == "!" {
                throw SyntaxError(message: "invalid or unsupported Perl syntax: look-ahead (?\(peek().map(String.init) ?? "")...) is not supported by RE2")
            } else {
                // Flags: (?flags) or (?flags:re); flags are i, m, s, U, optionally negated with '-'.
                var sawFlag = false
                var sawMinus = false
                while let scalar = peek() {
                    switch scalar {
                    case "i", "m", "s", "U":
                        sawFlag = true
                        index += 1
                    case "-":
                        if sawMinus { throw SyntaxError(message: "invalid or unsupported Perl syntax: repeated '-' in flags") }
                        sawMinus = true
                        sawFlag = false
                        index += 1
                    case ")":
                        if sawMinus && !sawFlag { throw SyntaxError(message: "invalid or unsupported Perl syntax: '-' needs a flag after it") }
                        if !sawFlag && !sawMinus { throw SyntaxError(message: "invalid or unsupported Perl syntax: empty flag group (?)") }
                        index += 1
                        lastWasOperand = false
                        lastWasRepetition = false
                        return
                    case ":":
                        if sawMinus && !sawFlag { throw SyntaxError(message: "invalid or unsupported Perl syntax: '-' needs a flag after it") }
                        index += 1
                        depth += 1
                        lastWasOperand = false
                        lastWasRepetition = false
                        return
                    default:
                        throw SyntaxError(message: "invalid or unsupported Perl syntax: (?\(scalar) is not an RE2 group; use (?:...), (?P<name>...) or flags i, m, s, U")
                    }
                }
                throw SyntaxError(message: "missing closing ): unterminated flag group")
            }
            lastWasOperand = false
            lastWasRepetition = false
        }

        mutating func groupName() throws(SyntaxError) {
            var name = ""
            while let scalar = peek(), scalar != ">" {
                guard scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_", scalar.isASCII else {
                    throw SyntaxError(message: "invalid named capture: names use letters, digits and '_'")
                }
                name.unicodeScalars.append(scalar)
                index += 1
            }
            guard peek() == ">" else { throw SyntaxError(message: "invalid named capture: missing '>'") }
            guard !name.isEmpty else { throw SyntaxError(message: "invalid named capture: empty name") }
            index += 1
        }

        /// Length of `{n}`, `{n,}` or `{n,m}` at the cursor, or nil when it is not one (then Go
        /// reads the brace as a literal).
        func countedRepetitionLength() -> Int? {
            var cursor = index + 1
            func digits() -> Int {
                let start = cursor
                while cursor < text.count, ("0"..."9").contains(text[cursor]) { cursor += 1 }
                return cursor - start
            }
            guard digits() > 0 else { return nil }
            if cursor < text.count, text[cursor] == "," {
                cursor += 1
                _ = digits()
            }
            guard cursor < text.count, text[cursor] == "}" else { return nil }
            return cursor - index + 1
        }

        func checkCount(at start: Int, length: Int) throws(SyntaxError) {
            let body = String(String.UnicodeScalarView(text[(start + 1)..<(start + length - 1)]))
            let parts = body.split(separator: ",", omittingEmptySubsequences: false)
            let numbers = parts.map { Int($0) }
            for number in numbers.compactMap({ $0 }) where number > 1000 {
                throw SyntaxError(message: "invalid repeat count {\(body)}: RE2 allows at most 1000")
            }
            if numbers.count == 2, let low = numbers[0], let high = numbers[1], low > high {
                throw SyntaxError(message: "invalid repeat count {\(body)}: the minimum is larger than the maximum")
            }
        }

        mutating func escape(inClass: Bool) throws(SyntaxError) {
            index += 1
            guard let scalar = peek() else { throw SyntaxError(message: "trailing backslash at end of expression") }
            index += 1
            switch scalar {
            case "1"..."7":
                guard let next = peek(), ("0"..."7").contains(next) else {
                    throw SyntaxError(message: "invalid escape sequence: \\\(scalar) (backreferences are not supported by RE2)")
                }
                while let next = peek(), ("0"..."7").contains(next), index < text.count { index += 1 }
            case "8", "9":
                throw SyntaxError(message: "invalid escape sequence: \\\(scalar)")
            case "0":
                var count = 0
                while count < 2, let next = peek(), ("0"..."7").contains(next) {
                    index += 1
                    count += 1
                }
            case "a", "f", "t", "n", "r", "v", "d", "D", "s", "S", "w", "W":
                break
            case "b", "B", "A", "z":
                if inClass { throw SyntaxError(message: "invalid escape sequence: \\\(scalar) inside a character class") }
            case "x":
                if peek() == "{" {
                    index += 1
                    var hex = ""
                    while let next = peek(), next != "}" {
                        hex.unicodeScalars.append(next)
                        index += 1
                    }
                    guard peek() == "}", let value = UInt32(hex, radix: 16), value <= 0x10FFFF else {
                        throw SyntaxError(message: "invalid escape sequence: \\x{\(hex)}")
                    }
                    index += 1
                } else {
                    for _ in 0..<2 {
                        guard let next = peek(), next.properties.isASCIIHexDigit else {
                            throw SyntaxError(message: "invalid escape sequence: \\x needs two hex digits")
                        }
                        index += 1
                    }
                }
            case "p", "P":
                if peek() == "{" {
                    var name = ""
                    index += 1
                    while let next = peek(), next != "}" {
                        name.unicodeScalars.append(next)
                        index += 1
                    }
                    guard peek() == "}", !name.isEmpty else { throw SyntaxError(message: "invalid character class range: \\\(scalar){\(name)") }
                    index += 1
                } else {
                    guard let next = peek(), next.properties.isAlphabetic else {
                        throw SyntaxError(message: "invalid character class range: \\\(scalar) needs a class name")
                    }
                    index += 1
                }
            case "Q":
                if inClass { throw SyntaxError(message: "invalid escape sequence: \\Q inside a character class") }
                while index < text.count {
                    if text[index] == "\\", peek(1) == "E" {
                        index += 2
                        break
                    }
                    index += 1
                }
            default:
                guard scalar.isASCII, !scalar.properties.isAlphabetic, !("0"..."9").contains(scalar) else {
                    throw SyntaxError(message: "invalid escape sequence: \\\(scalar)")
                }
            }
            if !inClass {
                // Go lets assertions (\b, \A, \z) take a repetition like any other operand.
                lastWasOperand = true
                lastWasRepetition = false
            }
        }

        static let posixClasses: Set<String> = [
            "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word", "xdigit",
        ]

        mutating func characterClass() throws(SyntaxError) {
            let start = index
            index += 1
            if peek() == "^" { index += 1 }
            var first = true
            while true {
                guard let scalar = peek() else {
                    throw SyntaxError(message: "missing closing ]: character class starting at offset \(start) is not closed")
                }
                if scalar == "]" && !first {
                    index += 1
                    return
                }
                first = false
                if scalar == "[", peek(1) == ":" {
                    var cursor = index + 2
                    var name = ""
                    while cursor < text.count, text[cursor] != ":" {
                        name.unicodeScalars.append(text[cursor])
                        cursor += 1
                    }
                    if cursor + 1 < text.count, text[cursor + 1] == "]" {
                        let bare = name.hasPrefix("^") ? String(name.dropFirst()) : name
                        guard Self.posixClasses.contains(bare) else {
                            throw SyntaxError(message: "invalid character class range: [:\(name):]")
                        }
                        index = cursor + 2
                        continue
                    }
                }
                var low: Unicode.Scalar?
                if scalar == "\\" {
                    let escapeStart = index + 1
                    try escape(inClass: true)
                    if index - escapeStart == 1, let escaped = text[safe: escapeStart],
                        escaped.isASCII, !escaped.properties.isAlphabetic, !("0"..."9").contains(escaped)
                    {
                        low = escaped
                    }
                } else {
                    low = scalar
                    index += 1
                }
                // A range a-z: '-' followed by something other than ']'.
                if peek() == "-", let next = peek(1), next != "]" {
                    guard let low else {
                        throw SyntaxError(message: "invalid character class range: a range cannot start at a class escape")
                    }
                    index += 1
                    var high: Unicode.Scalar
                    if next == "\\" {
                        let escapeStart = index + 1
                        try escape(inClass: true)
                        guard let escaped = text[safe: escapeStart] else { throw SyntaxError(message: "invalid character class range") }
                        high = escaped
                    } else {
                        high = next
                        index += 1
                    }
                    if high.value < low.value {
                        throw SyntaxError(message: "invalid character class range: \(low)-\(high) runs backwards")
                    }
                }
            }
        }
    }
}

private extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
