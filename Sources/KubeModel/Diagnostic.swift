/// Where a document came from: a file and the 1-based line (and column, when known).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int?

    public init(file: String, line: Int, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        if let column { return "\(file):\(line):\(column)" }
        return "\(file):\(line)"
    }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column ?? 0) < (rhs.file, rhs.line, rhs.column ?? 0)
    }
}

/// A problem found in the input: what is wrong, where, and what to do about it.
///
/// Diagnostics are values, never log lines: the renderer returns them, the CLI prints them,
/// the operator turns them into status conditions and events.
public struct Diagnostic: Error, Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case error
        case warning

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            lhs == .error && rhs == .warning
        }
    }

    public var severity: Severity
    /// The object the problem is in, when it is in one.
    public var object: ObjectReference?
    /// The document's location, when it was read from a file.
    public var source: SourceLocation?
    /// The field path inside the object, e.g. `spec.endpoints[0].port`.
    public var field: String?
    /// What is wrong and what to do, in one or two sentences.
    public var message: String

    public init(_ severity: Severity, object: ObjectReference? = nil, source: SourceLocation? = nil, field: String? = nil, message: String) {
        self.severity = severity
        self.object = object
        self.source = source
        self.field = field
        self.message = message
    }

    /// `error: file:line: Kind ns/name: field: message`, with absent parts left out.
    public var description: String {
        var parts = ["\(severity.rawValue):"]
        if let source { parts.append("\(source):") }
        if let object { parts.append("\(object):") }
        if let field { parts.append("\(field):") }
        parts.append(message)
        return parts.joined(separator: " ")
    }

    /// Orders by source, then object, then field, then message, so diagnostic lists are stable.
    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        let left = (lhs.source?.file ?? "", lhs.source?.line ?? 0, lhs.object?.description ?? "", lhs.field ?? "", lhs.message)
        let right = (rhs.source?.file ?? "", rhs.source?.line ?? 0, rhs.object?.description ?? "", rhs.field ?? "", rhs.message)
        return left < right
    }
}

/// A URL as it may be printed: user info (`user:password@`) and the values of query parameters
/// that carry credentials replaced by `***`. Logs, Events, status and errors show URLs only
/// through this.
public enum RedactedURL {
    /// Query parameter names (lower-cased) whose values are hidden: tokens, passwords, keys,
    /// signatures and the like.
    static let sensitive = ["token", "password", "passwd", "pwd", "secret", "key", "auth", "signature", "sig", "credential", "session", "code"]

    public static func redacted(_ url: String) -> String {
        var text = url
        // User info: before the last "@" of the authority (between "://" and the path).
        if let scheme = text.firstRange(of: "://") {
            let rest = text[scheme.upperBound...]
            let authorityEnd: String.Index = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                text.replaceSubrange(scheme.upperBound..<at, with: "***")
            }
        }
        guard let question = text.firstIndex(of: "?") else { return text }
        let fragment: String.Index = text[question...].firstIndex(of: "#") ?? text.endIndex
        let query = text[text.index(after: question)..<fragment]
        var pairs: [String] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = pair.firstIndex(of: "=") else {
                pairs.append(String(pair))
                continue
            }
            let name = pair[..<equals].lowercased()
            let hidden = sensitive.contains { name.contains($0) }
            pairs.append(hidden ? "\(pair[..<equals])=***" : String(pair))
        }
        return String(text[...question]) + pairs.joined(separator: "&") + String(text[fragment...])
    }
}
