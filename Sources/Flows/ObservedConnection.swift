/// One observed connection between two addresses, the unit every flow source is reduced to:
/// who initiated (client), who accepted (server), on which server port and transport, when,
/// and how much. Both halves of a conversation and repeated reports merge into one.
public struct ObservedConnection: Sendable, Hashable {
    public enum Transport: String, Sendable, Hashable, Comparable, CaseIterable {
        case tcp = "TCP", udp = "UDP", sctp = "SCTP"

        public init?(protocolNumber: UInt8) {
            switch protocolNumber {
            case 6: self = .tcp
            case 17: self = .udp
            case 132: self = .sctp
            default: return nil
            }
        }

        public static func < (lhs: Transport, rhs: Transport) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// What identifies a connection: both ends, the server port and the transport.
    public struct Key: Sendable, Hashable, Comparable {
        public var client: IPAddress
        public var server: IPAddress
        public var serverPort: UInt16
        public var transport: Transport

        public init(client: IPAddress, server: IPAddress, serverPort: UInt16, transport: Transport) {
            self.client = client
            self.server = server
            self.serverPort = serverPort
            self.transport = transport
        }

        public static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.client, lhs.server, lhs.serverPort, lhs.transport) < (rhs.client, rhs.server, rhs.serverPort, rhs.transport)
        }
    }

    public var key: Key
    /// Epoch milliseconds.
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// Flow reports merged into this connection (both directions).
    public var flows: Int
    public var packets: UInt64
    public var bytes: UInt64
    /// Where it was observed: ipfix, netflow9, hubble, istio.
    public var source: String
    /// What the source itself said each end was, when it says (Hubble endpoints, Istio's
    /// workload labels). Packet exporters know only addresses: nil.
    public var clientIdentity: ReportedIdentity?
    public var serverIdentity: ReportedIdentity?

    public init(key: Key, firstSeen: Int64, lastSeen: Int64, flows: Int = 1, packets: UInt64 = 0, bytes: UInt64 = 0, source: String,
                clientIdentity: ReportedIdentity? = nil, serverIdentity: ReportedIdentity? = nil) {
        self.key = key
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.flows = flows
        self.packets = packets
        self.bytes = bytes
        self.source = source
        self.clientIdentity = clientIdentity
        self.serverIdentity = serverIdentity
    }
}

/// One end of a connection as a flow source named it at the time of the flow.
///
/// Sources that know identities (Hubble, Istio) report them because the pod may be gone by the
/// time policies are made, or absent altogether from manifests on disk. A reported workload
/// wins over what the snapshot says about the address; its `labels` (volatile ones removed)
/// select its pods only when the snapshot does not know the workload's `spec.selector`.
public enum ReportedIdentity: Sendable, Hashable {
    /// A pod's workload; `kind` is empty when the source does not say (Istio), and is then
    /// looked up among the snapshot's workloads of that name.
    case workload(WorkloadReference, labels: [String: String])
    case service(namespace: String, name: String)
    case node
    case apiServer
    /// Outside the cluster.
    case world

    /// The JSON-lines form: `{"kind":"Deployment","namespace":"shop","name":"frontend","labels":{…}}`,
    /// `{"kind":"Service",…}`, or `{"kind":"Node"}`, `{"kind":"APIServer"}`, `{"kind":"World"}`.
    public var kindName: String {
        switch self {
        case .workload(let workload, _): workload.kind
        case .service: "Service"
        case .node: "Node"
        case .apiServer: "APIServer"
        case .world: "World"
        }
    }
}

/// Merges connections that sources report one by one (Hubble records, files read in parts):
/// the same addresses, port, transport and reported identities make one connection, with the
/// earliest first-seen, the latest last-seen and the flows added up. Identities are part of the
/// key, so a reused address never merges two workloads' traffic.
public struct ConnectionMerger: Sendable {
    struct Key: Hashable {
        var key: ObservedConnection.Key
        var client: ReportedIdentity?
        var server: ReportedIdentity?
    }

    var merged: [Key: ObservedConnection] = [:]
    /// Distinct connections kept; flows of new ones past it are counted in `droppedRecords`.
    public var maxConnections: Int
    public private(set) var droppedRecords = 0

    public init(maxConnections: Int = 90_000) {
        self.maxConnections = maxConnections
    }

    public mutating func add(_ connection: ObservedConnection) {
        let key = Key(key: connection.key, client: connection.clientIdentity, server: connection.serverIdentity)
        guard var existing = merged[key] else {
            if merged.count < maxConnections { merged[key] = connection } else { droppedRecords += connection.flows }
            return
        }
        existing.firstSeen = min(existing.firstSeen, connection.firstSeen)
        existing.lastSeen = max(existing.lastSeen, connection.lastSeen)
        existing.flows += connection.flows
        existing.packets &+= connection.packets
        existing.bytes &+= connection.bytes
        merged[key] = existing
    }

    /// The merged connections, sorted by key (ties: by first seen, then source).
    public var connections: [ObservedConnection] {
        merged.values.sorted { ($0.key, $0.firstSeen, $0.source) < ($1.key, $1.firstSeen, $1.source) }
    }
}

extension ObservedConnection.Key {
    /// The address of an end a source did not report (Istio knows workloads, not addresses).
    public static let unknownAddress = IPAddress.v4(0)
}

/// Folds flow records into connections.
///
/// Which end is the server, in order: a flow whose TCP flags show SYN without ACK came from the
/// client; else a port known to listen (a container port or Service port the caller knows) is the
/// server's; else, when both halves were seen, the half that started first is the client's;
/// else the lower port is the server's (ephemeral ports are high), the destination on a tie.
/// The decision is made per conversation (both endpoints and ports) once all its halves are in,
/// so the order in which halves arrive does not matter. ICMP and other transports without ports
/// are not connections a NetworkPolicy can name: they are counted, not kept.
public struct ConnectionAggregator: Sendable {
    /// Whether `port` on `address` is known to accept connections.
    public var isListening: @Sendable (IPAddress, UInt16) -> Bool
    public private(set) var skippedRecords = 0
    /// Conversations (both endpoints and ports) kept open to decide their direction; past this
    /// the least recently active half is settled into connections and forgotten. The default,
    /// 90,000, stays below 98,304, where a hash table of 2^17 buckets doubles: about 25 MB
    /// (192 bytes a bucket). The connection table's default follows the same reasoning.
    public var maxConversations: Int
    /// Distinct connections (client, server, server port, transport) kept; records of new ones
    /// beyond it are counted in `droppedRecords`, not kept. The output is at this granularity,
    /// so client ports never multiply it.
    public var maxConnections: Int
    /// Records not kept because `maxConnections` was reached.
    public private(set) var droppedRecords = 0
    /// Conversations settled early because `maxConversations` was reached.
    public private(set) var settledConversations = 0
    /// Conversations kept open now (at most `maxConversations`).
    public var openConversations: Int { conversations.count }
    /// Milliseconds (of flow time) after which a conversation with no new flow is settled.
    public var idleTimeout: Int64
    /// The latest flow end seen, and records added since idle conversations were last settled.
    var latestActivity: Int64 = .min
    var addsSinceIdleSweep = 0
    var conversations: [Conversation: Halves] = [:]
    /// Connections of conversations already settled, tallied compactly (a `Half` per
    /// connection: about half the size of an `ObservedConnection`).
    var settled: [ObservedConnection.Key: Half] = [:]

    /// Unordered endpoints and transport: both halves of a conversation share it.
    struct Conversation: Hashable {
        var low: IPAddress, lowPort: UInt16, high: IPAddress, highPort: UInt16, transport: ObservedConnection.Transport
    }

    struct Half {
        var first: Int64 = .max, last: Int64 = .min, flows = 0, packets: UInt64 = 0, bytes: UInt64 = 0, source = ""
        /// A flow of this half showed SYN without ACK: it is the client's.
        var opened = false

        /// Adds another tally of the same connection.
        mutating func absorb(_ other: Half) {
            first = min(first, other.first)
            last = max(last, other.last)
            flows += other.flows
            packets &+= other.packets
            bytes &+= other.bytes
            source = min(source, other.source)
        }
    }

    struct Halves {
        var lowToHigh = Half()
        var highToLow = Half()

        var lastActivity: Int64 { max(lowToHigh.last, highToLow.last) }
    }

    public init(isListening: @escaping @Sendable (IPAddress, UInt16) -> Bool = { _, _ in false }, maxConversations: Int = 90_000, maxConnections: Int = 90_000,
                idleTimeout: Int64 = 300_000) {
        self.isListening = isListening
        self.idleTimeout = idleTimeout
        self.maxConversations = maxConversations
        self.maxConnections = maxConnections
    }

    public mutating func add(_ record: FlowRecord, source: String) {
        guard let transport = ObservedConnection.Transport(protocolNumber: record.protocolNumber) else {
            skippedRecords += 1
            return
        }
        let forward = (record.source, record.sourcePort) <= (record.destination, record.destinationPort)
        let conversation = forward
            ? Conversation(low: record.source, lowPort: record.sourcePort, high: record.destination, highPort: record.destinationPort, transport: transport)
            : Conversation(low: record.destination, lowPort: record.destinationPort, high: record.source, highPort: record.sourcePort, transport: transport)
        func fold(_ half: inout Half) {
            half.first = min(half.first, record.start)
            half.last = max(half.last, record.end)
            half.flows += 1
            half.packets &+= record.packets
            half.bytes &+= record.bytes
            if half.source.isEmpty { half.source = source }
            if transport == .tcp, record.tcpFlags & 0x02 != 0, record.tcpFlags & 0x10 == 0 { half.opened = true }
        }
        if forward { fold(&conversations[conversation, default: Halves()].lowToHigh) } else { fold(&conversations[conversation, default: Halves()].highToLow) }
        latestActivity = max(latestActivity, record.end)
        addsSinceIdleSweep += 1
        if conversations.count > maxConversations {
            settleOldest()
        } else if addsSinceIdleSweep >= 16_384 {
            settleIdle()
        }
    }

    /// Settles every conversation with no flow in the last `idleTimeout` of flow time; a scan
    /// every 16,384 records keeps the cost per record constant.
    mutating func settleIdle() {
        addsSinceIdleSweep = 0
        let (cutoff, overflow) = latestActivity.subtractingReportingOverflow(idleTimeout)
        guard !overflow else { return }  // flow times are exporter-supplied: never trap on them
        settle(where: { $0.lastActivity < cutoff })
    }

    /// Settles the least recently active half of the open conversations: their direction is
    /// decided with what is known now and they become connections.
    mutating func settleOldest() {
        var activity = conversations.values.map(\.lastActivity)
        let middle = activity.count / 2
        activity.sort()
        let cutoff = activity[middle]
        settle(where: { $0.lastActivity <= cutoff })
    }

    /// Settles every conversation `chosen` picks: in place when they are few, else in one pass
    /// that rebuilds the table (removing most entries one by one from a large hash table costs
    /// far more).
    mutating func settle(where chosen: (Halves) -> Bool) {
        let count = conversations.values.reduce(0) { $0 + (chosen($1) ? 1 : 0) }
        if count == 0 { return }
        if count < conversations.count / 8 {
            // A few: removed where they are (collected first: removing while iterating the same
            // table would copy all of it).
            let picked = conversations.filter { chosen($0.value) }
            for (conversation, halves) in picked {
                Self.merge(conversation, halves, lowIsClient: lowIsClient(conversation, halves), into: &settled, limit: maxConnections, dropped: &droppedRecords)
                conversations[conversation] = nil
                settledConversations += 1
            }
            return
        }
        // Many: the table is rebuilt in one pass, sized for what stays (two full tables at
        // once would double the aggregator's peak memory).
        var kept: [Conversation: Halves] = [:]
        kept.reserveCapacity(conversations.count - count)
        for (conversation, halves) in conversations {
            if chosen(halves) {
                Self.merge(conversation, halves, lowIsClient: lowIsClient(conversation, halves), into: &settled, limit: maxConnections, dropped: &droppedRecords)
                settledConversations += 1
            } else {
                kept[conversation] = halves
            }
        }
        conversations = kept
    }

    /// Adds a conversation's halves to `connections` under its connection key; a key not yet
    /// there when `limit` connections exist is dropped, its flows counted.
    static func merge(_ conversation: Conversation, _ halves: Halves, lowIsClient lowClient: Bool, into connections: inout [ObservedConnection.Key: Half],
                      limit: Int, dropped: inout Int) {
        let key = lowClient
            ? ObservedConnection.Key(client: conversation.low, server: conversation.high, serverPort: conversation.highPort, transport: conversation.transport)
            : ObservedConnection.Key(client: conversation.high, server: conversation.low, serverPort: conversation.lowPort, transport: conversation.transport)
        for half in [halves.lowToHigh, halves.highToLow] where half.flows > 0 {
            if connections[key] != nil {
                connections[key]!.absorb(half)
            } else if connections.count < limit {
                connections[key] = half
            } else {
                dropped += half.flows
            }
        }
    }

    /// Whether the low end of a conversation is its client.
    func lowIsClient(_ conversation: Conversation, _ halves: Halves) -> Bool {
        if halves.lowToHigh.opened != halves.highToLow.opened { return halves.lowToHigh.opened }
        let lowListens = isListening(conversation.low, conversation.lowPort), highListens = isListening(conversation.high, conversation.highPort)
        if lowListens != highListens { return highListens }
        if halves.lowToHigh.flows > 0, halves.highToLow.flows > 0, halves.lowToHigh.first != halves.highToLow.first {
            return halves.lowToHigh.first < halves.highToLow.first
        }
        if conversation.lowPort != conversation.highPort { return conversation.highPort < conversation.lowPort }
        // Same ports: the half seen is the client's (its source sent first), the low end if both.
        return halves.lowToHigh.flows > 0
    }

    /// The connections, merged over conversations and sorted by key.
    public var connections: [ObservedConnection] {
        var merged = settled
        var dropped = 0
        for (conversation, halves) in conversations {
            Self.merge(conversation, halves, lowIsClient: lowIsClient(conversation, halves), into: &merged, limit: maxConnections, dropped: &dropped)
        }
        var result = merged.map { key, tally in
            ObservedConnection(key: key, firstSeen: tally.first, lastSeen: tally.last, flows: tally.flows, packets: tally.packets, bytes: tally.bytes, source: tally.source)
        }
        merged = [:]
        result.sort { $0.key < $1.key }
        return result
    }
}
