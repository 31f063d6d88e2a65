public import DataTree

/// How plain (unquoted) scalars become typed values, and which strings must be quoted when
/// emitted so that no reader turns them into something else.
///
/// Reading follows what Kubernetes tooling does (sigs.k8s.io/yaml over go-yaml v2, a YAML 1.1
/// reader): `true`/`false` and the YAML 1.1 words `yes`/`no`/`on`/`off`/`y`/`n` are booleans,
/// `null`/`~`/empty are null, integers are decimal, `0x`, `0o` or `0b`, floats are YAML 1.2
/// core floats plus `.inf`/`.nan`. Writing is stricter: any string that YAML 1.1 *or* 1.2 could
/// read back as a bool, number, null, timestamp or merge key is quoted.
public enum ScalarResolver {
    private static let nullWords: Set<String> = ["", "~", "null", "Null", "NULL"]
    private static let trueWords: Set<String> = ["true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"]
    private static let falseWords: Set<String> = ["false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"]

    /// The value a plain scalar denotes.
    public static func resolvePlain(_ text: String) -> Node {
        if nullWords.contains(text) { return .null }
        if trueWords.contains(text) { return .bool(true) }
        if falseWords.contains(text) { return .bool(false) }
        if let int = integer(text) { return .int(int) }
        if let double = float(text) { return .double(double) }
        return .string(text)
    }

    private static func integer(_ text: String) -> Int? {
        var body = Substring(text)
        var negative = false
        if let first = body.first, first == "-" || first == "+" {
            negative = first == "-"
            body = body.dropFirst()
        }
        guard !body.isEmpty else { return nil }
        let radix: Int
        if body.hasPrefix("0x") { radix = 16; body = body.dropFirst(2) }
        else if body.hasPrefix("0o") { radix = 8; body = body.dropFirst(2) }
        else if body.hasPrefix("0b") { radix = 2; body = body.dropFirst(2) }
        else { radix = 10 }
        guard !body.isEmpty, body.allSatisfy({ $0.isHexDigit }), let magnitude = Int(body, radix: radix) else {
            return nil
        }
        return negative ? -magnitude : magnitude
    }

    private static func float(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // YAML 1.2 core: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
        var index = text.startIndex
        let end = text.endIndex
        func digits() -> Int {
            var count = 0
            while index < end, text[index].isASCII, text[index].isNumber {
                index = text.index(after: index)
                count += 1
            }
            return count
        }
        if index < end, text[index] == "-" || text[index] == "+" { index = text.index(after: index) }
        let integerDigits = digits()
        var fractionDigits = 0
        if index < end, text[index] == "." {
            index = text.index(after: index)
            fractionDigits = digits()
        }
        guard integerDigits > 0 || fractionDigits > 0 else { return nil }
        if index < end, text[index] == "e" || text[index] == "E" {
            index = text.index(after: index)
            if index < end, text[index] == "-" || text[index] == "+" { index = text.index(after: index) }
            guard digits() > 0 else { return nil }
        }
        guard index == end else { return nil }
        return Double(text)
    }

    /// Whether `text` must be quoted to be read back as the same string by YAML 1.1 and 1.2
    /// readers: the bool and null words of both versions, `.inf`/`.nan` in any case, the merge
    /// and value keys, and every int, float and timestamp form of either version (so `0755`,
    /// `1_000`, `12:30`, `1.2.3` and `2024-01-01` are quoted, `127.0.0.1:9100` is not).
    public static func needsQuotes(_ text: String) -> Bool {
        // Every reserved word is at most 5 bytes; this runs for every emitted scalar, so long
        // strings skip the set lookups (which hash the whole string).
        if text.utf8.count <= 5 {
            if nullWords.contains(text) || trueWords.contains(text) || falseWords.contains(text) { return true }
            if text == "<<" || text == "=" { return true }
            if [".inf", "+.inf", "-.inf", ".nan"].contains(text.lowercased()) { return true }
        }
        // Every number form starts with a digit, a sign or a dot: check that before copying the bytes.
        guard let first = text.utf8.first, (first >= 0x30 && first <= 0x39) || first == 0x2E || first == 0x2B || first == 0x2D else { return false }
        return NumberForms.matchesAny(Array(text.utf8))
    }
}

/// Hand-written matchers for the YAML 1.1 and 1.2 int, float and timestamp regular expressions
/// (Swift's `Regex` is not `Sendable`, and these run for every emitted scalar).
private enum NumberForms {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func all(_ bytes: ArraySlice<UInt8>, _ allowed: (UInt8) -> Bool) -> Bool { bytes.allSatisfy(allowed) }
    static let underscore = UInt8(ascii: "_")
    static let dot = UInt8(ascii: ".")
    static let colon = UInt8(ascii: ":")

    static func matchesAny(_ text: [UInt8]) -> Bool {
        guard let first = text.first, isDigit(first) || first == dot || first == 0x2B || first == 0x2D else { return false }
        if isTimestampStart(text) { return true }
        var body = text[...]
        if let sign = body.first, sign == 0x2B || sign == 0x2D { body = body.dropFirst() }
        guard !body.isEmpty else { return false }
        return isInteger(body) || isSexagesimalInteger(body) || isFloat11(body) || isSexagesimalFloat(body) || isFloat12(body)
    }

    /// `YYYY-M…`: the start of every YAML 1.1 timestamp; quoting all of them is harmless.
    static func isTimestampStart(_ text: [UInt8]) -> Bool {
        text.count >= 6 && text[0..<4].allSatisfy(isDigit) && text[4] == 0x2D && isDigit(text[5])
    }

    static func isInteger(_ body: ArraySlice<UInt8>) -> Bool {
        if all(body, isDigit) { return true }  // 1.1 decimal and octal, 1.2 decimal
        let rest = body.dropFirst(2)
        if body.starts(with: "0b".utf8) { return !rest.isEmpty && all(rest) { $0 == 0x30 || $0 == 0x31 || $0 == underscore } }
        if body.starts(with: "0x".utf8) { return !rest.isEmpty && all(rest) { $0.isHexDigit || $0 == underscore } }
        if body.starts(with: "0o".utf8) { return !rest.isEmpty && all(rest) { $0 >= 0x30 && $0 <= 0x37 } }
        if body.first == 0x30 { return all(body) { ($0 >= 0x30 && $0 <= 0x37) || $0 == underscore } }
        return body.first.map(isDigit) == true && all(body) { isDigit($0) || $0 == underscore }
    }

    /// `[0-9][0-9_]*(:[0-5]?[0-9])+`
    static func isSexagesimalInteger(_ body: ArraySlice<UInt8>) -> Bool {
        let parts = body.split(separator: colon, omittingEmptySubsequences: false)
        guard parts.count >= 2, let head = parts.first, let lead = head.first, isDigit(lead) else { return false }
        guard all(head, { isDigit($0) || $0 == underscore }) else { return false }
        return parts.dropFirst().allSatisfy { part in
            switch part.count {
            case 1: isDigit(part[part.startIndex])
            case 2: (0x30...0x35).contains(part[part.startIndex]) && isDigit(part[part.startIndex + 1])
            default: false
            }
        }
    }

    /// YAML 1.1: `([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?`
    static func isFloat11(_ body: ArraySlice<UInt8>) -> Bool {
        guard let dotIndex = body.firstIndex(of: dot) else { return false }
        let head = body[body.startIndex..<dotIndex]
        if let lead = head.first, !isDigit(lead) { return false }
        guard all(head, { isDigit($0) || $0 == underscore }) else { return false }
        var tail = body[(dotIndex + 1)...]
        if let exponent = tail.firstIndex(where: { $0 == 0x65 || $0 == 0x45 }) {
            let power = tail[(exponent + 1)...]
            guard let sign = power.first, sign == 0x2B || sign == 0x2D, power.count > 1, all(power.dropFirst(), isDigit) else {
                return false
            }
            tail = tail[tail.startIndex..<exponent]
        }
        return all(tail) { isDigit($0) || $0 == dot }
    }

    /// `[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`
    static func isSexagesimalFloat(_ body: ArraySlice<UInt8>) -> Bool {
        guard let dotIndex = body.firstIndex(of: dot) else { return false }
        return isSexagesimalInteger(body[body.startIndex..<dotIndex])
            && all(body[(dotIndex + 1)...]) { isDigit($0) || $0 == underscore }
    }

    /// YAML 1.2 core: `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    static func isFloat12(_ body: ArraySlice<UInt8>) -> Bool {
        var mantissa = body
        if let exponent = body.firstIndex(where: { $0 == 0x65 || $0 == 0x45 }) {
            var power = body[(exponent + 1)...]
            if let sign = power.first, sign == 0x2B || sign == 0x2D { power = power.dropFirst() }
            guard !power.isEmpty, all(power, isDigit) else { return false }
            mantissa = body[body.startIndex..<exponent]
        }
        let parts = mantissa.split(separator: dot, maxSplits: 1, omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return !parts[0].isEmpty && all(parts[0], isDigit)
        case 2: return (parts[0].isEmpty ? !parts[1].isEmpty : true) && all(parts[0], isDigit) && all(parts[1], isDigit)
        default: return false
        }
    }
}

private extension UInt8 {
    var isHexDigit: Bool { (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self) }
}
