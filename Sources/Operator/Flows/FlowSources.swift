import KubeModel
import DataTree
public import Flows
import Foundation
public import KubeClient
public import Logging

/// The flow sources the FlowPolicies name, run by the operator, and what they observed.
///
/// One collector per IPFIX/NetFlow port (shared by every FlowPolicy naming it), one tail per
/// Hubble file (new complete lines read each poll; a file that shrank was rotated and is read
/// from its start), one query per Istio Prometheus and window, repeated every
/// `istioInterval` (each answer replaces the previous: it already covers the window). A source
/// no FlowPolicy names any more is stopped and forgotten. Connections are kept in memory
/// only: after a restart, learning starts over (the applied policies stay until the new
/// proposals are Stable).
public actor FlowSources {
    public struct Desired: Sendable, Hashable {
        public var ipfixPorts: Set<Int> = []
        public var hubblePaths: Set<String> = []
        public var istio: Set<IstioQuery> = []

        public init(ipfixPorts: Set<Int> = [], hubblePaths: Set<String> = [], istio: Set<IstioQuery> = []) {
            self.ipfixPorts = ipfixPorts
            self.hubblePaths = hubblePaths
            self.istio = istio
        }
    }

    public struct IstioQuery: Sendable, Hashable {
        public var prometheusURL: String
        public var window: String
        public var windowMilliseconds: Int64

        public init(prometheusURL: String, window: String, windowMilliseconds: Int64) {
            self.prometheusURL = prometheusURL
            self.window = window
            self.windowMilliseconds = windowMilliseconds
        }
    }

    /// Counters for the operator's metrics.
    public struct Statistics: Sendable, Hashable {
        /// Flow export datagrams, records decoded, and malformed datagrams (all collectors).
        public var packets = 0
        public var records = 0
        public var malformedPackets = 0
        /// Records not kept: before their template, after it expired, past the connection limit.
        public var unknownTemplateRecords = 0
        public var expiredTemplateRecords = 0
        public var droppedRecords = 0
        /// Templates refused at an exporter's limit; exporter sessions evicted.
        public var refusedTemplates = 0
        public var evictedExporters = 0
        /// Hubble lines that could not be read.
        public var badHubbleRecords = 0
        /// Istio queries that failed.
        public var failedIstioQueries = 0
    }

    struct HubbleTail {
        var offset: UInt64 = 0
        var partial: [UInt8] = []
        var connections = ConnectionMerger()
        var badRecords = 0
    }

    let listenHost: String
    let logger: Logger
    let prometheus: @Sendable (String) -> PrometheusQueryClient
    let istioInterval: Duration
    var collectors: [Int: (collector: FlowCollector, task: Task<Void, Never>)] = [:]
    var tails: [String: HubbleTail] = [:]
    /// The Istio queries FlowPolicies name, and each one's last answer.
    var istioQueries: Set<IstioQuery> = []
    var istio: [IstioQuery: (connections: [ObservedConnection], at: ContinuousClock.Instant)] = [:]
    var failedIstioQueries = 0

    public init(listenHost: String, transport: any HTTPTransport, istioInterval: Duration = .seconds(60), logger: Logger) {
        self.listenHost = listenHost
        self.logger = logger
        self.istioInterval = istioInterval
        prometheus = { PrometheusQueryClient(transport: transport, baseURL: $0) }
    }

    /// Starts what is desired and not running; stops what runs and is not desired.
    public func reconcile(_ desired: Desired) {
        for (port, running) in collectors where !desired.ipfixPorts.contains(port) {
            running.task.cancel()
            collectors[port] = nil
            logger.info("flow collector stopped", metadata: ["flows.port": "\(port)"])
        }
        for port in desired.ipfixPorts.sorted() where collectors[port] == nil {
            let collector = FlowCollector(logger: logger)
            let host = listenHost, logger = self.logger
            let task = Task {
                do {
                    try await collector.run(host: host, port: port)
                } catch where !Task.isCancelled {
                    logger.error("cannot receive flows", metadata: ["flows.port": "\(port)", "error": "\(error)"])
                } catch {}
            }
            collectors[port] = (collector, task)
        }
        for path in tails.keys where !desired.hubblePaths.contains(path) { tails[path] = nil }
        for path in desired.hubblePaths where tails[path] == nil { tails[path] = HubbleTail() }
        for query in istio.keys where !desired.istio.contains(query) { istio[query] = nil }
        istioQueries = desired.istio
    }

    /// Reads what the Hubble files gained and runs the Istio queries that are due.
    public func poll(now: Int64, clock: ContinuousClock = ContinuousClock()) async {
        for path in tails.keys.sorted() { readHubble(path) }
        for query in istioQueries.sorted(by: { ($0.prometheusURL, $0.window) < ($1.prometheusURL, $1.window) }) {
            if let last = istio[query], clock.now - last.at < istioInterval { continue }
            switch await prometheus(query.prometheusURL).istioConnections(window: query.window, windowMilliseconds: query.windowMilliseconds, at: now) {
            case .success(let decoded): istio[query] = (decoded.connections, clock.now)
            case .failure(let failure):
                failedIstioQueries += 1
                logger.warning("Istio query failed; the previous answer is kept", metadata: ["flows.prometheus": "\(RedactedURL.redacted(query.prometheusURL))", "error": "\(failure)"])
            }
        }
    }

    func readHubble(_ path: String) {
        guard var tail = tails[path], let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        if size < tail.offset {  // rotated or truncated
            tail.offset = 0
            tail.partial = []
        }
        guard size > tail.offset else { return }
        try? handle.seek(toOffset: tail.offset)
        // At most 64 MiB per poll: a huge backlog is read over several polls.
        let chunk = (try? handle.read(upToCount: Int(min(size - tail.offset, 64 << 20)))) ?? Data()
        tail.offset += UInt64(chunk.count)
        var bytes = tail.partial + [UInt8](chunk)
        if let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
            tail.partial = Array(bytes[(lastNewline + 1)...])
            bytes.removeSubrange((lastNewline + 1)...)
        } else {
            tail.partial = bytes
            bytes = []
        }
        if tail.partial.count > 1 << 20 { tail.partial = [] }  // a "line" of a megabyte is not a record
        let decoded = HubbleFlows.decode(bytes)
        tail.badRecords += decoded.problems.count
        for connection in decoded.connections { tail.connections.add(connection) }
        tails[path] = tail
    }

    /// Every connection observed so far, from every running source.
    public var connections: [ObservedConnection] {
        collectors.values.flatMap { $0.collector.snapshot.connections }
            + tails.values.flatMap(\.connections.connections)
            + istio.values.flatMap(\.connections)
    }

    public var statistics: Statistics {
        var statistics = Statistics()
        for (collector, _) in collectors.values {
            let counters = collector.counters
            statistics.packets += counters.decoder.packets
            statistics.records += counters.decoder.records
            statistics.malformedPackets += counters.decoder.malformedPackets
            statistics.unknownTemplateRecords += counters.decoder.unknownTemplateRecords
            statistics.expiredTemplateRecords += counters.decoder.expiredTemplateRecords
            statistics.droppedRecords += counters.droppedRecords
            statistics.refusedTemplates += counters.templates.refusedTemplates
            statistics.evictedExporters += counters.templates.evictedExporters
        }
        statistics.badHubbleRecords = tails.values.reduce(0) { $0 + $1.badRecords }
        statistics.droppedRecords += tails.values.reduce(0) { $0 + $1.connections.droppedRecords }
        statistics.failedIstioQueries = failedIstioQueries
        return statistics
    }

    /// Stops every collector.
    public func stop() {
        for (_, running) in collectors { running.task.cancel() }
        collectors = [:]
    }
}
