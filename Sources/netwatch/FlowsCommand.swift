import ArgumentParser
import Flows
import Foundation
import Logging
import NetWatchAPI
import Operator

struct FlowsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Collect observed connections.",
        subcommands: [Collect.self]
    )

    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "collect",
            abstract: "Receive NetFlow v9 and IPFIX over UDP and write the observed connections as JSON lines.",
            discussion: """
                Point softflowd, pmacct, nProbe or a router at --listen. Both halves of each \
                conversation are merged into one connection with its client, server and server port. \
                The output file (canonical JSON lines, one connection per line) is rewritten \
                atomically every --write-interval and at the end; `netwatch render` reads it. Stops \
                after --duration, or on SIGTERM or SIGINT.
                """
        )

        @Option(help: "HOST:PORT to receive exports on (UDP).")
        var listen: String = "0.0.0.0:4739"

        @Option(help: "The JSON lines file to write.")
        var output: String

        @Option(help: "Stop after this long (Prometheus duration, e.g. 30s, 10m); default: until a signal.")
        var duration: String?

        @Option(name: .customLong("write-interval"), help: "How often to rewrite the output while collecting.")
        var writeInterval: String = "10s"

        @Option(name: .customLong("log-format"), help: "json (one object per line, for log pipelines) or text.")
        var logFormat: String = "text"

        func run() async throws {
            try bootstrapLogging(logFormat)
            let logger = {
                var logger = Logger(label: "netwatch-flows")
                logger.logLevel = .info
                return logger
            }()
            guard let address = try parseListenAddress(listen, option: "--listen") else {
                printError("error: --listen must be HOST:PORT")
                throw ExitCodes.unusableInput
            }
            func parse(_ text: String, _ option: String) throws -> Duration {
                do {
                    return .milliseconds(try PrometheusDuration(parsing: text).milliseconds)
                } catch {
                    printError("error: \(option) \(error)")
                    throw ExitCodes.unusableInput
                }
            }
            let limit = try duration.map { try parse($0, "--duration") }
            let interval = try parse(writeInterval, "--write-interval")
            let collector = FlowCollector(logger: logger)
            let output = self.output
            let write: @Sendable () throws -> Void = {
                let (connections, _) = collector.snapshot
                try Data(ConnectionLines.encode(connections)).write(to: URL(fileURLWithPath: output), options: .atomic)
            }
            let host = address.host, port = address.port
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await collector.run(host: host, port: port)
                    } catch where !Task.isCancelled {
                        logger.error("cannot receive flows", metadata: ["error": "\(error)"])
                    } catch {}
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        try? write()
                    }
                }
                group.addTask {
                    if let limit {
                        try? await Task.sleep(for: limit)
                    } else {
                        await waitForSignal()
                    }
                }
                await group.next()
                group.cancelAll()
            }
            try write()
            let (connections, statistics) = collector.snapshot
            printError("netwatch: \(connections.count) connection(s) from \(statistics.records) record(s) in \(statistics.packets) packet(s) written to \(output); " +
                       "\(statistics.malformedPackets) malformed packet(s), \(statistics.unknownTemplateRecords) data set(s) before their template")
        }
    }
}
