/// Connections a team has accepted being denied, for `netwatch policy check --allow-list`.
///
/// One entry per line, `#` starts a comment:
///
/// ```
/// # the batch jobs were moved behind the gateway on purpose
/// jobs/batch -> shop/api 8080/TCP
/// monitoring/* -> * *
/// shop/Deployment/web -> 203.0.113.0/24 443
/// ```
///
/// An end is `*`, `NAMESPACE/NAME`, `NAMESPACE/KIND/NAME` (each part may use `*` as a
/// wildcard), `world`, `node`, `apiserver`, or an address or CIDR (which also matches a node or
/// the API server at that address). The port is optional: `*`, `8080`, `8000-8100`, each with
/// an optional `/TCP`, `/UDP` or `/SCTP`.
public struct PolicyAllowList: Sendable {
    public struct Entry: Sendable, Hashable {
        public var line: Int
        public var text: String
        var client: EndPattern
        var server: EndPattern
        var ports: ClosedRange<Int>?
        var transport: ObservedConnection.Transport?
    }

    /// A line that could not be read: where and why.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var message: String
        public var description: String { "\(line):\(column): \(message)" }
    }

    enum EndPattern: Sendable, Hashable {
        case any
        case workload(namespace: String, kind: String?, name: String)
        case world, node, apiServer
        case addresses(CIDR)
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    /// Reads the list; every bad line is a problem (the good ones are still read).
    public static func parse(_ text: String) -> (PolicyAllowList, [Problem]) {
        var list = PolicyAllowList()
        var problems: [Problem] = []
        // "\r\n" is one Character: files written on Windows split at it too.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = content.trimmingWhitespace
            guard !trimmed.isEmpty else { continue }
            switch entry(trimmed, line: index + 1, column: content.distance(from: content.startIndex, to: trimmed.startIndex) + 1) {
            case .success(let entry): list.entries.append(entry)
            case .failure(let problem): problems.append(problem)
            }
        }
        return (list, problems)
    }

    static func entry(_ text: Substring, line: Int, column: Int) -> Result<Entry, Problem> {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let start = column
        func at(_ word: Substring) -> Int { start + text.distance(from: text.startIndex, to: word.startIndex) }
        guard words.count == 3 || words.count == 4, words[1] == "->" || words[1] == "→" else {
            return .failure(Problem(line: line, column: start, message: "expected CLIENT -> SERVER [PORT[/PROTOCOL]], e.g. jobs/batch -> shop/api 8080/TCP"))
        }
        guard let client = pattern(words[0]) else { return .failure(badEnd(words[0], line: line, column: at(words[0]))) }
        guard let server = pattern(words[2]) else { return .failure(badEnd(words[2], line: line, column: at(words[2]))) }
        var entry = Entry(line: line, text: String(text), client: client, server: server)
        if words.count == 4 {
            let parts = words[3].split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2 {
                guard let transport = ObservedConnection.Transport(rawValue: parts[1].uppercased()) else {
                    return .failure(Problem(line: line, column: at(words[3]) + parts[0].count + 1, message: "protocol must be TCP, UDP or SCTP"))
                }
                entry.transport = transport
            }
            guard parts.count <= 2, let range = ports(parts[0]) else {
                return .failure(Problem(line: line, column: at(words[3]), message: "port must be *, a number 1-65535 or a range such as 8000-8100, optionally with /TCP, /UDP or /SCTP"))
            }
            entry.ports = range
        }
        return .success(entry)
    }

    static func badEnd(_ word: Substring, line: Int, column: Int) -> Problem {
        Problem(line: line, column: column, message: "\"\(word)\" is not an end: use *, NAMESPACE/NAME, NAMESPACE/KIND/NAME, world, node, apiserver, or an address or CIDR")
    }

    static func pattern(_ word: Substring) -> EndPattern? {
        switch word.lowercased() {
        case "*": return .any
        case "world": return .world
        case "node": return .node
        case "apiserver": return .apiServer
        default: break
        }
        if let address = IPAddress(word) { return .addresses(CIDR(network: address, prefixLength: address.hostPrefixLength)) }
        if word.contains(":") || word.first?.isNumber == true, let cidr = CIDR(String(word)) { return .addresses(cidr) }
        let parts = word.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        switch parts.count {
        case 2: return .workload(namespace: parts[0], kind: nil, name: parts[1])
        case 3: return .workload(namespace: parts[0], kind: parts[1], name: parts[2])
        default: return nil
        }
    }

    /// nil for `*` as all ports (returned as 0...65535), nil on error.
    static func ports(_ word: Substring) -> ClosedRange<Int>?? {
        if word == "*" { return .some(nil) }
        let bounds = word.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds.last!), 1 <= low, low <= high, high <= 65535 else { return nil }
        return .some(low...high)
    }

    /// The first entry that accepts a denied connection on `port` (nil when the port is a name
    /// the server's pods do not declare), or nil.
    public func entry(accepting client: Peer, _ server: Peer, port: Int?, transport: ObservedConnection.Transport) -> Entry? {
        entries.first { entry in
            entry.client.matches(client) && entry.server.matches(server)
                && (entry.transport.map { $0 == transport } ?? true)
                && (entry.ports.map { range in port.map(range.contains) ?? false } ?? true)
        }
    }
}

extension PolicyAllowList.EndPattern {
    func matches(_ peer: Peer) -> Bool {
        switch (self, peer) {
        case (.any, _): return true
        case (.workload(let namespace, let kind, let name), .workload(let workload)):
            return Glob.matches(namespace, workload.namespace) && (kind.map { Glob.matches($0, workload.kind) } ?? true) && Glob.matches(name, workload.name)
        case (.world, .external), (.node, .node), (.apiServer, .apiServer): return true
        case (.addresses(let cidr), .external(let address)), (.addresses(let cidr), .node(_, let address)), (.addresses(let cidr), .apiServer(let address)):
            return cidr.contains(address)
        default: return false
        }
    }
}

/// Shell-style patterns with `*` only (any run of characters, including none).
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let pattern = Array(pattern.utf8), text = Array(text.utf8)
        var p = 0, t = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p; mark = t; p += 1
            } else if p < pattern.count, pattern[p] == text[t] {
                p += 1; t += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" || first == "\r" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result.removeLast() }
        return result
    }
}
