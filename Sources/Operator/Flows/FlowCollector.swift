public import Flows
import Foundation
public import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Receives NetFlow v9 and IPFIX over UDP and folds every record into connections.
///
/// Guarantees: one bad datagram never stops collection (it is counted in the decoder's
/// statistics); templates are kept per exporter address and observation domain; the
/// connections seen so far can be read at any time (`snapshot`).
public final class FlowCollector: Sendable {
    struct State {
        var decoder = FlowExportDecoder()
        var aggregator = ConnectionAggregator()
        var scratch: [FlowRecord] = []
    }

    let state = Mutex(State())
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The connections so far and the decoder's counters.
    public var snapshot: (connections: [ObservedConnection], statistics: FlowExportDecoder.Statistics) {
        state.withLock { ($0.aggregator.connections, $0.decoder.statistics) }
    }

    /// Adds one export datagram from `exporter` (its address, e.g. "10.0.0.5:2055").
    public func receive(_ datagram: [UInt8], from exporter: String) {
        state.withLock { state in
            state.scratch.removeAll(keepingCapacity: true)
            let version = datagram.count >= 2 ? UInt16(datagram[0]) << 8 | UInt16(datagram[1]) : 0
            state.decoder.decode(datagram, exporter: exporter, into: &state.scratch)
            let source = version == 10 ? "ipfix" : "netflow9"
            for record in state.scratch { state.aggregator.add(record, source: source) }
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
                    receive(Array(envelope.data.readableBytesView), from: "\(envelope.remoteAddress)")
                }
            }
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }
}
