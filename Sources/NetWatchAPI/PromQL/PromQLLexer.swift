/// Tokens of PromQL as Prometheus 2.x's lexer (`promql/parser/lex.go`) produces them.
struct PromQLToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier(String)  // metric names, label names, function and keyword candidates
        case number(Double)
        case duration(String)
        case string(String)
        case symbol(String)  // ( ) { } [ ] , : = != =~ !~ + - * / % ^ == < > <= >= @
        case end
    }

    var kind: Kind
    /// Byte offset in the expression, for messages.
    var offset: Int
}

/// Splits a PromQL expression into tokens. Durations are lexed only where PromQL has them:
/// inside `[...]` and after `offset`.
struct PromQLLexer {
    struct Failure: Error, Sendable {
        var message: String
        var offset: Int
    }

    let bytes: [UInt8]
    var position = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F || byte == 0x3A
    }

    static func isNameByte(_ byte: UInt8) -> Bool { isNameStart(byte) || isDigit(byte) }
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// All tokens. A number right after `[`, `:` inside brackets, or `offset` is a duration.
    mutating func tokens() throws(Failure) -> [PromQLToken] {
        var tokens: [PromQLToken] = []
        var bracketDepth = 0
        while true {
            skipSpaceAndComments()
            guard position < bytes.count else {
                tokens.append(PromQLToken(kind: .end, offset: position))
                return tokens
            }
            let start = position
            let byte = bytes[position]
            let afterOffset: Bool = {
                if case .identifier(let word)? = tokens.last?.kind { return word.equalsIgnoringASCIICase("offset") }
                if case .symbol("-")? = tokens.last?.kind, tokens.count >= 2, case .identifier(let word) = tokens[tokens.count - 2].kind { return word.equalsIgnoringASCIICase("offset") }
                return false
            }()
            if (bracketDepth > 0 || afterOffset), Self.isDigit(byte) {
                tokens.append(PromQLToken(kind: .duration(try duration()), offset: start))
                continue
            }
            if Self.isDigit(byte) || (byte == UInt8(ascii: ".") && position + 1 < bytes.count && Self.isDigit(bytes[position + 1])) {
                tokens.append(PromQLToken(kind: .number(try number()), offset: start))
                continue
            }
            if Self.isNameStart(byte), !(bracketDepth > 0 && byte == UInt8(ascii: ":")) {
                while position < bytes.count, Self.isNameByte(bytes[position]) { position += 1 }
                let word = String(decoding: bytes[start..<position], as: UTF8.self)
                if word.equalsIgnoringASCIICase("inf") {
                    tokens.append(PromQLToken(kind: .number(.infinity), offset: start))
                } else if word.equalsIgnoringASCIICase("nan") {
                    tokens.append(PromQLToken(kind: .number(.nan), offset: start))
                } else {
                    tokens.append(PromQLToken(kind: .identifier(word), offset: start))
                }
                continue
            }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "`") {
                tokens.append(PromQLToken(kind: .string(try string()), offset: start))
                continue
            }
            if position + 1 < bytes.count, let pair = Self.pairSymbol(byte, bytes[position + 1]) {
                position += 2
                tokens.append(PromQLToken(kind: .symbol(pair), offset: start))
                continue
            }
            guard let one = Self.singleSymbol(byte) else {
                throw Failure(message: "unexpected character \"\(String(decoding: [byte], as: UTF8.self))\"", offset: start)
            }
            if one == "[" { bracketDepth += 1 }
            if one == "]" { bracketDepth = max(0, bracketDepth - 1) }
            position += 1
            tokens.append(PromQLToken(kind: .symbol(one), offset: start))
        }
    }

    /// `!=`, `=~`, `!~`, `==`, `<=`, `>=` (compared as bytes: this is the hot path).
    static func pairSymbol(_ first: UInt8, _ second: UInt8) -> String? {
        switch (first, second) {
        case (UInt8(ascii: "!"), UInt8(ascii: "=")): "!="
        case (UInt8(ascii: "="), UInt8(ascii: "~")): "=~"
        case (UInt8(ascii: "!"), UInt8(ascii: "~")): "!~"
        case (UInt8(ascii: "="), UInt8(ascii: "=")): "=="
        case (UInt8(ascii: "<"), UInt8(ascii: "=")): "<="
        case (UInt8(ascii: ">"), UInt8(ascii: "=")): ">="
        default: nil
        }
    }

    static let singleSymbols: [UInt8: String] = Dictionary(uniqueKeysWithValues: "(){}[],:=+-*/%^<>@".utf8.map { ($0, String(decoding: [$0], as: UTF8.self)) })

    static func singleSymbol(_ byte: UInt8) -> String? { singleSymbols[byte] }

    mutating func skipSpaceAndComments() {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                position += 1
            } else if byte == UInt8(ascii: "#") {
                while position < bytes.count, bytes[position] != 0x0A { position += 1 }
            } else {
                return
            }
        }
    }

    /// Decimal, float with exponent, or hexadecimal.
    mutating func number() throws(Failure) -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "0"), position + 1 < bytes.count, bytes[position + 1] | 0x20 == UInt8(ascii: "x") {
            position += 2
            while position < bytes.count, Self.isHexDigit(bytes[position]) { position += 1 }
            let text = String(decoding: bytes[(start + 2)..<position], as: UTF8.self)
            guard let value = UInt64(text, radix: 16) else { throw Failure(message: "bad number \"\(String(decoding: bytes[start..<position], as: UTF8.self))\"", offset: start) }
            try rejectTrailingName(start)
            return Double(value)
        }
        while position < bytes.count, Self.isDigit(bytes[position]) || bytes[position] == UInt8(ascii: ".") { position += 1 }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            var look = position + 1
            if look < bytes.count, bytes[look] == UInt8(ascii: "+") || bytes[look] == UInt8(ascii: "-") { look += 1 }
            if look < bytes.count, Self.isDigit(bytes[look]) {
                position = look
                while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
            }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text) else { throw Failure(message: "bad number \"\(text)\"", offset: start) }
        try rejectTrailingName(start)
        return value
    }

    /// `5m` outside a range is not a number (Prometheus: "bad number or duration syntax").
    func rejectTrailingName(_ start: Int) throws(Failure) {
        if position < bytes.count, Self.isNameStart(bytes[position]) {
            var end = position
            while end < bytes.count, Self.isNameByte(bytes[end]) { end += 1 }
            throw Failure(message: "bad number or duration syntax: \"\(String(decoding: bytes[start..<end], as: UTF8.self))\"", offset: start)
        }
    }

    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66) }

    /// A Prometheus duration: one or more `<number><unit>` with units y w d h m s ms in order.
    mutating func duration() throws(Failure) -> String {
        let start = position
        while position < bytes.count, Self.isDigit(bytes[position]) || (Self.isNameStart(bytes[position]) && bytes[position] != UInt8(ascii: ":")) { position += 1 }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        do throws(DurationError) {
            _ = try PrometheusDuration(parsing: text)
        } catch {
            throw Failure(message: "bad duration \"\(text)\": \(error.reason)", offset: start)
        }
        return text
    }

    /// Double- or single-quoted with Go escapes, or a backquoted raw string.
    mutating func string() throws(Failure) -> String {
        let start = position
        let quote = bytes[position]
        position += 1
        var out: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            if byte == quote {
                position += 1
                return String(decoding: out, as: UTF8.self)
            }
            if quote != UInt8(ascii: "`"), byte == 0x0A { break }
            if quote != UInt8(ascii: "`"), byte == UInt8(ascii: "\\") {
                position += 1
                guard position < bytes.count else { break }
                let escaped = bytes[position]
                switch escaped {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "a"): out.append(0x07)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "v"): out.append(0x0B)
                case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(escaped)
                case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"), UInt8(ascii: "0")...UInt8(ascii: "7"):
                    // Numeric escapes: accepted as Go accepts them; their value does not matter here.
                    let digits = escaped == UInt8(ascii: "x") ? 2 : escaped == UInt8(ascii: "u") ? 4 : escaped == UInt8(ascii: "U") ? 8 : 2
                    for _ in 0..<digits {
                        position += 1
                        guard position < bytes.count, Self.isHexDigit(bytes[position]) else {
                            throw Failure(message: "invalid escape sequence in string", offset: position)
                        }
                    }
                    out.append(UInt8(ascii: "?"))
                default:
                    throw Failure(message: "unknown escape sequence \"\\\(String(decoding: [escaped], as: UTF8.self))\"", offset: position - 1)
                }
                position += 1
                continue
            }
            out.append(byte)
            position += 1
        }
        throw Failure(message: "unterminated quoted string", offset: start)
    }
}

extension String {
    /// Whether the string is `lowercase` (ASCII, lower case) in any ASCII case, without making a
    /// lowercased copy. PromQL keywords are ASCII, as are the names the lexer reads.
    func equalsIgnoringASCIICase(_ lowercase: String) -> Bool {
        guard utf8.count == lowercase.utf8.count else { return false }
        return zip(utf8, lowercase.utf8).allSatisfy { byte, expected in (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) == expected }
    }
}
