public import Flows
import Foundation
public import KubeRuntime
public import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Receives NetFlow v9 and IPFIX over UDP and folds every record into connections.
///
/// Guarantees: one bad datagram never stops collection (it is counted in the decoder's
/// statistics); templates are kept per exporter session and observation domain, expire, and
/// are bounded (`TemplateCache`); memory is bounded (`ConnectionAggregator`'s limits), with
/// what was refused or dropped counted (`counters`) and logged; the connections seen so far
/// can be read at any time (`snapshot`).
public final class FlowCollector: Sendable {
    /// What the collector decoded, refused and dropped so far; all only grow.
    public struct Counters: Sendable, Hashable {
        public var decoder = FlowExportDecoder.Statistics()
        public var templates = TemplateCache.Counters()
        /// Records of connections past the aggregator's connection limit.
        public var droppedRecords = 0
        public init() {}

        /// What the limits refused: templates, evicted exporters, dropped records.
        var refusals: [Int] { [templates.refusedTemplates, templates.evictedExporters, droppedRecords] }
    }

    struct State {
        var decoder = FlowExportDecoder()
        var aggregator = ConnectionAggregator()
        var scratch: [FlowRecord] = []
        /// What was last logged as refused or dropped, and when.
        var reported = Counters()
        var reportedAt: Int64 = 0
    }

    let state = Mutex(State())
    let logger: Logger
    /// Stamps datagrams as they arrive (templates expire by it).
    let wallClock: WallClock

    public init(logger: Logger, wallClock: WallClock = .system) {
        self.logger = logger
        self.wallClock = wallClock
    }

    /// The connections so far and the counters.
    public var snapshot: (connections: [ObservedConnection], counters: Counters) {
        state.withLock { ($0.aggregator.connections, $0.counters) }
    }

    /// The counters alone (cheap: no connection list is built).
    public var counters: Counters {
        state.withLock { $0.counters }
    }

    /// Adds one export datagram from `exporter` (its address and port, e.g. "10.0.0.5:2055"),
    /// received at `receivedAt` (epoch milliseconds; templates expire by it).
    public func receive(_ datagram: [UInt8], from exporter: String, receivedAt: Int64) {
        let refusals: Counters? = state.withLock { state in
            state.scratch.removeAll(keepingCapacity: true)
            let version = datagram.count >= 2 ? UInt16(datagram[0]) << 8 | UInt16(datagram[1]) : 0
            state.decoder.decode(datagram, exporter: exporter, receivedAt: receivedAt, into: &state.scratch)
            let source = version == 10 ? "ipfix" : "netflow9"
            for record in state.scratch { state.aggregator.add(record, source: source) }
            // Logged at most once a minute, and only when something new was refused.
            let counters = state.counters
            guard counters.refusals != state.reported.refusals, receivedAt - state.reportedAt >= 60_000 else { return nil }
            state.reported = counters
            state.reportedAt = receivedAt
            return counters
        }
        if let refusals {
            logger.warning("flow input refused at the collector's limits (totals since start)", metadata: [
                "flows.exporter": "\(exporter)",
                "flows.refused_templates": "\(refusals.templates.refusedTemplates)",
                "flows.evicted_exporters": "\(refusals.templates.evictedExporters)",
                "flows.dropped_records": "\(refusals.droppedRecords)",
            ])
        }
    }

    /// Listens on `host:port` until cancelled; `onBound` gets the bound port (port 0 picks one).
    public func run(host: String, port: Int, onBound: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
                }
            }
        await onBound(channel.channel.localAddress?.port ?? port)
        logger.info("collecting flows", metadata: ["flows.listen": "\(host):\(channel.channel.localAddress?.port ?? port)"])
        try await withTaskCancellationHandler {
            try await channel.executeThenClose { inbound, _ in
                for try await envelope in inbound {
                    receive(Array(envelope.data.readableBytesView), from: "\(envelope.remoteAddress)", receivedAt: wallClock.epochMilliseconds)
                }
            }
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }
}

extension FlowCollector.State {
    var counters: FlowCollector.Counters {
        var counters = FlowCollector.Counters()
        counters.decoder = decoder.statistics
        counters.templates = decoder.templates.counters
        counters.droppedRecords = aggregator.droppedRecords
        return counters
    }
}
