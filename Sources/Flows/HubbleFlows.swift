import DataTree

/// Reads `hubble observe -o json` output and Hubble exporter files: one JSON object per line,
/// either the `GetFlowsResponse` envelope (`{"flow":{…},"node_name":…,"time":…}`) or a bare flow.
///
/// Only connection initiations count: replies (`is_reply: true`, trace reason `REPLY`, or TCP
/// SYN+ACK when `is_reply` is absent), L7 records, flows without ports (ICMP) and flows dropped
/// by an explicit deny policy (drop reason 181, `POLICY_DENY`) are skipped and counted. Flows
/// dropped by default deny are kept: they are traffic a workload needed. Hubble reports the
/// initiator as `source` for non-replies, so the destination port is the server port.
/// Each end keeps what Hubble said it was (namespace, workload, labels, or a `reserved:` entity),
/// so a pod that is gone by the time policies are made is still attributed correctly.
/// Connections merge as `ConnectionMerger` merges them: a reused address never merges two
/// workloads' traffic.
public enum HubbleFlows {
    public struct Decoded: Sendable {
        public var connections: [ObservedConnection] = []
        public var problems: [ConnectionLines.Problem] = []
        /// Records that were valid but are not connection initiations (replies, L7, ICMP, denied).
        public var skipped = 0
    }

    /// Labels Cilium adds to every endpoint that say nothing about the workload.
    static func isInternalLabel(_ key: String) -> Bool {
        key.hasPrefix("io.cilium.") || key.hasPrefix("io.kubernetes.pod.") || key == "io.kubernetes.pod.namespace"
    }

    public static func decode(_ bytes: [UInt8]) -> Decoded {
        var decoded = Decoded()
        var merger = ConnectionMerger()
        var number = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let node: Node
            do throws(JSONReaderError) {
                node = try JSONReader(maximumDepth: 64).read(Array(line))
            } catch {
                decoded.problems.append(.init(line: number, message: "not JSON: \(error)"))
                continue
            }
            switch connection(from: node) {
            case .failure(let problem): decoded.problems.append(.init(line: number, message: problem.message))
            case .success(nil): decoded.skipped += 1
            case .success(let connection?): merger.add(connection)
            }
        }
        decoded.connections = merger.connections
        return decoded
    }

    /// Whether the first non-blank line looks like a Hubble record (so a `.json`/`.jsonl` file
    /// given to `netwatch render` is read as flows, not as manifests or canonical lines).
    public static func looksLikeHubble(_ bytes: [UInt8]) -> Bool {
        guard let line = bytes.split(separator: UInt8(ascii: "\n")).first(where: { !$0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }),
              let node = try? JSONReader(maximumDepth: 64).read(Array(line)) else { return false }
        return node["flow"]?.mapping != nil || (node["IP"]?.mapping != nil && node["l4"]?.mapping != nil)
    }

    struct Problem: Error { var message: String }

    /// The connection one record initiates; nil for a valid record that initiates none.
    static func connection(from record: Node) -> Result<ObservedConnection?, Problem> {
        guard record.mapping != nil else { return .failure(Problem(message: "a Hubble record must be a JSON object")) }
        let flow = record["flow"] ?? record
        guard flow.mapping != nil else { return .failure(Problem(message: "flow must be an object")) }
        if let type = flow["Type"]?.string, type != "L3_L4" { return .success(nil) }
        if flow["l7"] != nil { return .success(nil) }
        if let verdict = flow["verdict"]?.string, verdict == "ERROR" { return .success(nil) }
        if flow["verdict"]?.string == "DROPPED",
           flow["drop_reason"] == .int(181) || flow["drop_reason_desc"]?.string == "POLICY_DENY" { return .success(nil) }
        guard let ip = flow["IP"], ip.mapping != nil else { return .failure(Problem(message: "flow.IP is missing; expected {source, destination}")) }
        guard let sourceText = ip["source"]?.string, let source = IPAddress(sourceText) else {
            return .failure(Problem(message: "flow.IP.source is missing or not an IP address"))
        }
        guard let destinationText = ip["destination"]?.string, let destination = IPAddress(destinationText) else {
            return .failure(Problem(message: "flow.IP.destination is missing or not an IP address"))
        }
        guard let l4 = flow["l4"]?.mapping else { return .success(nil) }
        let transport: ObservedConnection.Transport
        let ports: Node
        if let tcp = l4["TCP"] { transport = .tcp; ports = tcp } else if let udp = l4["UDP"] { transport = .udp; ports = udp } else if let sctp = l4["SCTP"] {
            transport = .sctp; ports = sctp
        } else { return .success(nil) }  // ICMP: no port to allow
        func port(_ field: String) -> UInt16? {
            guard case .int(let value)? = ports[field], (0...65535).contains(value) else { return nil }
            return UInt16(value)
        }
        guard let sourcePort = port("source_port"), let destinationPort = port("destination_port") else {
            return .failure(Problem(message: "flow.l4.\(transport.rawValue).source_port and destination_port must be 0-65535"))
        }
        // Direction: Hubble's own reply flag, else its trace reason, else the TCP handshake,
        // else the lower port is the server's.
        let flags = ports["flags"]
        let syn = flags?["SYN"] == .bool(true), ack = flags?["ACK"] == .bool(true)
        let reversed: Bool
        switch flow["is_reply"] {
        case .bool(let reply)?: reversed = reply
        case .mapping(let wrapped)? where wrapped["value"] != nil: reversed = wrapped["value"] == .bool(true)
        default:
            if flow["trace_reason"]?.string == "REPLY" { reversed = true } else if syn { reversed = ack } else { reversed = sourcePort < destinationPort }
        }
        if reversed && (flow["is_reply"] != nil || flow["trace_reason"]?.string == "REPLY") { return .success(nil) }
        guard let time = (flow["time"]?.string ?? record["time"]?.string).flatMap(Timestamp.parse) else {
            return .failure(Problem(message: "flow.time is missing or not an RFC 3339 time"))
        }
        let serverPort = reversed ? sourcePort : destinationPort
        guard serverPort != 0 else { return .success(nil) }
        let clientEnd = reversed ? flow["destination"] : flow["source"], serverEnd = reversed ? flow["source"] : flow["destination"]
        return .success(ObservedConnection(
            key: .init(client: reversed ? destination : source, server: reversed ? source : destination, serverPort: serverPort, transport: transport),
            firstSeen: time, lastSeen: time, flows: 1, source: "hubble",
            clientIdentity: clientEnd.flatMap(identity), serverIdentity: serverEnd.flatMap(identity)))
    }

    /// What Hubble said an endpoint was: a `reserved:` entity, or a pod's workload and labels.
    static func identity(_ endpoint: Node) -> ReportedIdentity? {
        let labels = (endpoint["labels"]?.sequence ?? []).compactMap(\.string)
        if labels.contains("reserved:kube-apiserver") { return .apiServer }
        if labels.contains("reserved:host") || labels.contains("reserved:remote-node") { return .node }
        if labels.contains(where: { $0.hasPrefix("reserved:world") }) { return .world }
        guard let namespace = endpoint["namespace"]?.string, !namespace.isEmpty,
              let workload = endpoint["workloads"]?.sequence?.first,
              let name = workload["name"]?.string, !name.isEmpty else { return nil }
        var podLabels: [String: String] = [:]
        for label in labels where label.hasPrefix("k8s:") {
            let pair = label.dropFirst(4)
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let key = String(pair[..<equals])
            if !isInternalLabel(key) { podLabels[key] = String(pair[pair.index(after: equals)...]) }
        }
        let kind = workload["kind"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "Deployment"
        return .workload(WorkloadReference(namespace: namespace, kind: kind, name: name), labels: podLabels)
    }
}
