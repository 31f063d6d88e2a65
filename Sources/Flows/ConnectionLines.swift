import DataTree

/// The canonical file form of observed connections: JSON lines, one connection per line, keys
/// in a fixed order, times in RFC 3339 UTC with milliseconds. `netwatch flows collect` writes
/// it and `netwatch render` reads it next to Hubble files.
///
/// ```
/// {"client":"10.42.0.7","server":"10.42.1.9","port":8080,"protocol":"TCP","firstSeen":"2026-11-22T10:00:00.000Z","lastSeen":"2026-11-22T10:05:00.000Z","flows":4,"packets":120,"bytes":18000,"source":"ipfix"}
/// ```
public enum ConnectionLines {
    public static func encode(_ connections: [ObservedConnection]) -> [UInt8] {
        var out: [UInt8] = []
        for connection in connections {
            var line = Mapping()
            if connection.clientIdentity == nil || connection.key.client != ObservedConnection.Key.unknownAddress {
                line["client"] = .string(connection.key.client.description)
            }
            if connection.serverIdentity == nil || connection.key.server != ObservedConnection.Key.unknownAddress {
                line["server"] = .string(connection.key.server.description)
            }
            if connection.key.serverPort != 0 { line["port"] = .int(Int(connection.key.serverPort)) }
            line["protocol"] = .string(connection.key.transport.rawValue)
            line["firstSeen"] = .string(Timestamp.format(milliseconds: connection.firstSeen))
            line["lastSeen"] = .string(Timestamp.format(milliseconds: connection.lastSeen))
            line["flows"] = .int(connection.flows)
            line["packets"] = .int(Int(clamping: connection.packets))
            line["bytes"] = .int(Int(clamping: connection.bytes))
            line["source"] = .string(connection.source)
            if let identity = connection.clientIdentity { line["clientIdentity"] = node(identity) }
            if let identity = connection.serverIdentity { line["serverIdentity"] = node(identity) }
            out += JSONEmitter(style: .compact).emit(.mapping(line))
            if out.last != UInt8(ascii: "\n") { out.append(UInt8(ascii: "\n")) }
        }
        return out
    }

    /// A line that could not be read: its 1-based number and why.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Reads the lines; a bad line is a problem and the others are still read. Blank lines are skipped.
    public static func decode(_ bytes: [UInt8]) -> (connections: [ObservedConnection], problems: [Problem]) {
        var connections: [ObservedConnection] = []
        var problems: [Problem] = []
        var number = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do throws(JSONReaderError) {
                let node = try JSONReader().read(Array(line))
                switch connection(from: node) {
                case .success(let connection): connections.append(connection)
                case .failure(let problem): problems.append(Problem(line: number, message: problem.message))
                }
            } catch {
                problems.append(Problem(line: number, message: "not JSON: \(error)"))
            }
        }
        return (connections, problems)
    }

    struct FieldProblem: Error { var message: String }

    /// A total order on identities, for deterministic output.
    static func sortKey(_ identity: ReportedIdentity) -> String {
        switch identity {
        case .workload(let workload, _): "\(workload.namespace)/\(workload.kind)/\(workload.name)"
        case .service(let namespace, let name): "\(namespace)/Service/\(name)"
        default: identity.kindName
        }
    }

    static func node(_ identity: ReportedIdentity) -> Node {
        switch identity {
        case .workload(let workload, let labels):
            ["kind": .string(workload.kind), "namespace": .string(workload.namespace), "name": .string(workload.name), "labels": .sortedStringMap(labels)]
        case .service(let namespace, let name): ["kind": "Service", "namespace": .string(namespace), "name": .string(name)]
        case .node, .apiServer, .world: ["kind": .string(identity.kindName)]
        }
    }

    static func identity(_ node: Node, field: String) -> Result<ReportedIdentity, FieldProblem> {
        guard node.mapping != nil, let kind = node["kind"]?.string else {
            return .failure(FieldProblem(message: "\(field) must be an object with a kind (a workload kind, Service, Node, APIServer or World)"))
        }
        switch kind {
        case "Node": return .success(.node)
        case "APIServer": return .success(.apiServer)
        case "World": return .success(.world)
        default:
            guard let namespace = node["namespace"]?.string, !namespace.isEmpty, let name = node["name"]?.string, !name.isEmpty else {
                return .failure(FieldProblem(message: "\(field).namespace and \(field).name are required for kind \(kind)"))
            }
            if kind == "Service" { return .success(.service(namespace: namespace, name: name)) }
            return .success(.workload(WorkloadReference(namespace: namespace, kind: kind, name: name), labels: node["labels"]?.stringValues ?? [:]))
        }
    }

    static func connection(from node: Node) -> Result<ObservedConnection, FieldProblem> {
        func address(_ field: String) -> Result<IPAddress, FieldProblem> {
            guard let text = node[field]?.string else { return .failure(FieldProblem(message: "\(field) is missing; expected an IP address")) }
            guard let address = IPAddress(text) else { return .failure(FieldProblem(message: "\(field) \"\(text)\" is not an IPv4 or IPv6 address")) }
            return .success(address)
        }
        func time(_ field: String) -> Result<Int64, FieldProblem> {
            guard let text = node[field]?.string, let value = Timestamp.parse(text) else {
                return .failure(FieldProblem(message: "\(field) must be an RFC 3339 time such as 2026-11-22T10:00:00Z"))
            }
            return .success(value)
        }
        func count(_ field: String) -> Result<Int, FieldProblem> {
            guard let value = node[field] else { return .success(0) }
            guard case .int(let number) = value, number >= 0 else { return .failure(FieldProblem(message: "\(field) must be a count (an integer ≥ 0)")) }
            return .success(number)
        }
        do throws(FieldProblem) {
            var clientIdentity: ReportedIdentity?, serverIdentity: ReportedIdentity?
            if let reported = node["clientIdentity"] { clientIdentity = try identity(reported, field: "clientIdentity").get() }
            if let reported = node["serverIdentity"] { serverIdentity = try identity(reported, field: "serverIdentity").get() }
            // An end a source reported by identity alone has no address.
            let client = clientIdentity != nil && node["client"] == nil ? ObservedConnection.Key.unknownAddress : try address("client").get()
            let server = serverIdentity != nil && node["server"] == nil ? ObservedConnection.Key.unknownAddress : try address("server").get()
            // Without a port, a connection to a Service means all its ports (Istio reports none).
            let port: Int
            if node["port"] == nil, case .service? = serverIdentity {
                port = 0
            } else {
                guard case .int(let number)? = node["port"], (1...65535).contains(number) else {
                    throw FieldProblem(message: "port must be 1-65535 (it may be left out only when serverIdentity is a Service)")
                }
                port = number
            }
            guard let transport = node["protocol"]?.string.flatMap(ObservedConnection.Transport.init(rawValue:)) else {
                throw FieldProblem(message: "protocol must be TCP, UDP or SCTP")
            }
            let first = try time("firstSeen").get()
            let last = node["lastSeen"] == nil ? first : try time("lastSeen").get()
            return .success(ObservedConnection(
                key: .init(client: client, server: server, serverPort: UInt16(port), transport: transport),
                firstSeen: first, lastSeen: max(first, last), flows: max(1, try count("flows").get()),
                packets: UInt64(try count("packets").get()), bytes: UInt64(try count("bytes").get()),
                source: node["source"]?.string ?? "file", clientIdentity: clientIdentity, serverIdentity: serverIdentity))
        } catch {
            return .failure(error)
        }
    }
}

/// RFC 3339 UTC timestamps from and to epoch milliseconds, without Foundation.
public enum Timestamp {
    public static func format(milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = Int(milliseconds - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(fromDays: days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(year), 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil otherwise.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for index in range {
                guard (0x30...0x39).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - 0x30)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var millis = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                if digits < 3 { millis = millis * 10 + Int(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            index += 1
        } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            guard let hours = number((index + 1)..<(index + 3)), index + 3 < bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                  let minutes = number((index + 4)..<(index + 6)) else { return nil }
            offset = (hours * 60 + minutes) * 60 * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: Int64(year), month: month, day: day)
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return seconds * 1000 + Int64(millis)
    }

    // Howard Hinnant's civil-from-days and days-from-civil (proleptic Gregorian).
    static func civil(fromDays days: Int64) -> (Int64, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthPrime + 2) / 5 + 1)
        let month = Int(monthPrime < 10 ? monthPrime + 3 : monthPrime - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysFromCivil(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthPrime = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthPrime + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
