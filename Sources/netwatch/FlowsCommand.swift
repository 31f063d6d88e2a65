import ArgumentParser
import ConfigGen
import CurlTransport
import Flows
import Foundation
import Logging
import NetWatchAPI
import Operator
import KubeModel
import RenderIO

struct FlowsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Collect observed connections.",
        subcommands: [Collect.self, Graph.self, Diff.self]
    )

    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "collect",
            abstract: "Receive NetFlow v9 and IPFIX over UDP, or read Istio's service graph, and write the observed connections as JSON lines.",
            discussion: """
                Point softflowd, pmacct, nProbe or a router at --listen. Both halves of each \
                conversation are merged into one connection with its client, server and server port. \
                The output file (canonical JSON lines, one connection per line) is rewritten \
                atomically every --write-interval and at the end; `netwatch render` reads it. Stops \
                after --duration, or on SIGTERM or SIGINT.

                With --istio-prometheus, netwatch instead asks that Prometheus once for the workloads \
                that opened connections or sent requests over --window (istio_tcp_connections_opened_total \
                and istio_requests_total, reported by the client's sidecar) and writes them; a \
                connection to a Service stands for all its ports until `netwatch render` resolves \
                them through the Service. Hubble needs no collection: `netwatch render` reads \
                `hubble observe -o json` output directly.
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

        @Option(name: .customLong("istio-prometheus"), help: "Read Istio's service graph from this Prometheus (e.g. http://prometheus.istio-system:9090) instead of listening.")
        var istioPrometheus: String?

        @Option(help: "With --istio-prometheus: the window to look back over (Prometheus duration).")
        var window: String = "24h"

        func run() async throws {
            try bootstrapLogging(logFormat)
            if let istioPrometheus { return try await collectIstio(from: istioPrometheus) }
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
                .milliseconds(try parseDurationOption(text, option: option).milliseconds)
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
            let (connections, counters) = collector.snapshot
            let statistics = counters.decoder
            printError("netwatch: \(connections.count) connection(s) from \(statistics.records) record(s) in \(statistics.packets) packet(s) written to \(output); " +
                       "\(statistics.malformedPackets) malformed packet(s), \(statistics.unknownTemplateRecords) data set(s) before their template, " +
                       "\(statistics.expiredTemplateRecords) after it expired, \(counters.templates.refusedTemplates) template(s) refused at an exporter's limit, " +
                       "\(counters.droppedRecords) record(s) past the connection limit")
        }

        func collectIstio(from base: String) async throws {
            let windowMilliseconds = Int64(try parseDurationOption(window, option: "--window").milliseconds)
            var logger = Logger(label: "netwatch-flows")
            logger.logLevel = .warning
            let client = PrometheusQueryClient(transport: try CurlTransport(logger: logger), baseURL: base)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            switch await client.istioConnections(window: window, windowMilliseconds: windowMilliseconds, at: now) {
            case .failure(let failure):
                printError("error: \(failure); check the URL and that Prometheus scrapes Istio's sidecars")
                throw ExitCodes.diagnostics
            case .success(let decoded):
                try Data(ConnectionLines.encode(decoded.connections)).write(to: URL(fileURLWithPath: output), options: .atomic)
                printError("netwatch: \(decoded.connections.count) connection(s) from Istio's metrics over \(window) written to \(output); " +
                           "\(decoded.skipped) series skipped (unknown client, passthrough or black-hole cluster, no increase)")
            }
        }
    }

    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "graph",
            abstract: "Draw the observed service graph (Graphviz DOT, and SVG through Graphviz's dot).",
            discussion: """
                Reads manifests and .jsonl flow files like `netwatch render`. Workloads are grouped by \
                namespace; edges carry port/protocol and flows per minute. NetworkPolicies among the \
                inputs are evaluated: an observed connection they would deny is drawn red and dashed.
                """
        )

        @Option(name: .long, parsing: .upToNextOption, help: "Files or directories of manifests and flow files.")
        var input: [String]

        @Option(help: "The DOT file to write.")
        var output: String

        @Option(help: "Also write an SVG here (runs Graphviz's dot).")
        var svg: String?

        func run() throws {
            let loaded = ManifestLoader().load(paths: input)
            if !loaded.fileErrors.isEmpty {
                for error in loaded.fileErrors { printError("error: \(error)") }
                throw ExitCodes.unusableInput
            }
            let (snapshot, problems) = loaded.snapshot()
            for diagnostic in (loaded.diagnostics + problems).sorted() { printError(diagnostic.description) }
            let resolver = IdentityResolver(pods: snapshot.pods, workloads: snapshot.workloads, services: snapshot.services)
            let edges = EdgeBuilder(resolver: resolver, services: snapshot.services, pods: snapshot.pods).edges(snapshot.observedConnections)
            let policies = loaded.objects.filter { $0.type.group == "networking.k8s.io" && $0.type.kind == "NetworkPolicy" }.map(\.document)
            let endpoints = WorkloadEndpoints(pods: snapshot.pods, workloads: snapshot.workloads, namespaces: snapshot.namespaces,
                                              resolver: resolver, connections: snapshot.observedConnections)
            let report = PolicyCheck(evaluator: PolicyEvaluator(policies: policies), resolver: resolver, pods: snapshot.pods, services: snapshot.services,
                                     endpoints: endpoints).run(snapshot.observedConnections)
            let denied = Set(report.denied.map(\.edge.identity))
            let first = snapshot.observedConnections.map(\.firstSeen).min() ?? 0
            let last = snapshot.observedConnections.map(\.lastSeen).max() ?? 0
            let dot = ServiceGraph.dot(edges, windowMinutes: Double(max(0, last - first)) / 60_000) { denied.contains($0.identity) }
            try Data(dot.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            if let svg { try FlowsCommand.renderSVG(dot: output, svg: svg) }
            printError("netwatch: \(edges.count) edge(s) drawn to \(output)\(svg.map { " and \($0)" } ?? "")")
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Print the service-graph edges added and removed between two observation sets.",
            discussion: """
                For reviews — what did this release start (or stop) talking to? --before and --after \
                are flow files or directories (.jsonl from `netwatch flows collect`, Hubble JSON); \
                --manifests, read for both, tell what the addresses were (pods, workloads, Services) \
                and hold the NetworkPolicies: an after edge they would deny is marked. Edges are \
                compared by client, server, port and protocol. --dot and --svg draw the after graph \
                with the removed edges: added green, removed grey dashed, would-deny red.
                """
        )

        @Option(name: .long, parsing: .upToNextOption, help: "Flow files or directories observed before.")
        var before: [String]

        @Option(name: .long, parsing: .upToNextOption, help: "Flow files or directories observed after.")
        var after: [String]

        @Option(name: .long, parsing: .upToNextOption, help: "Manifests: pods, workloads, Services, Namespaces and NetworkPolicies.")
        var manifests: [String] = []

        @Option(help: "text or json.")
        var format: String = "text"

        @Option(help: "Also write the diff as Graphviz DOT here.")
        var dot: String?

        @Option(help: "Also write an SVG here (runs Graphviz's dot; needs --dot).")
        var svg: String?

        func run() throws {
            guard ["text", "json"].contains(format) else {
                printError("error: --format must be text or json")
                throw ExitCodes.unusableInput
            }
            if svg != nil && dot == nil {
                printError("error: --svg needs --dot (the DOT file it is drawn from)")
                throw ExitCodes.unusableInput
            }
            let loader = ManifestLoader()
            let context = loader.load(paths: manifests), earlier = loader.load(paths: before), later = loader.load(paths: after)
            let fileErrors = context.fileErrors + earlier.fileErrors + later.fileErrors
            if !fileErrors.isEmpty {
                for error in fileErrors { printError("error: \(error)") }
                throw ExitCodes.unusableInput
            }
            for diagnostic in (context.diagnostics + earlier.diagnostics + later.diagnostics).sorted() { printError(diagnostic.description) }
            let (snapshot, problems) = context.snapshot()
            for diagnostic in problems.sorted() { printError(diagnostic.description) }
            let resolver = IdentityResolver(pods: snapshot.pods, workloads: snapshot.workloads, services: snapshot.services)
            let builder = EdgeBuilder(resolver: resolver, services: snapshot.services, pods: snapshot.pods)
            let beforeConnections = context.connections + earlier.connections, afterConnections = context.connections + later.connections
            let policies = context.objects.filter { $0.type.group == "networking.k8s.io" && $0.type.kind == "NetworkPolicy" }.map(\.document)
            var wouldDeny: Set<ResolvedEdge> = []
            if !policies.isEmpty {
                let endpoints = WorkloadEndpoints(pods: snapshot.pods, workloads: snapshot.workloads, namespaces: snapshot.namespaces,
                                                  resolver: resolver, connections: afterConnections)
                let report = PolicyCheck(evaluator: PolicyEvaluator(policies: policies), resolver: resolver, pods: snapshot.pods,
                                         services: snapshot.services, endpoints: endpoints).run(afterConnections)
                wouldDeny = Set(report.denied.map(\.edge))
            }
            let diff = FlowDiff(before: builder.edges(beforeConnections), after: builder.edges(afterConnections), wouldDeny: wouldDeny)
            if format == "json" { FileHandle.standardOutput.write(Data(diff.json)) } else { print(diff.text, terminator: "") }
            if let dot {
                let first = afterConnections.map(\.firstSeen).min() ?? 0, last = afterConnections.map(\.lastSeen).max() ?? 0
                try Data(diff.dot(windowMinutes: Double(max(0, last - first)) / 60_000).utf8).write(to: URL(fileURLWithPath: dot), options: .atomic)
                if let svg { try FlowsCommand.renderSVG(dot: dot, svg: svg) }
            }
        }
    }

    /// Runs Graphviz's dot to draw `dot` as SVG into `svg`.
    static func renderSVG(dot: String, svg: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
        process.arguments = ["-Tsvg", dot, "-o", svg]
        do { try process.run() } catch {
            printError("error: cannot run Graphviz's dot (/usr/bin/dot): \(error); install graphviz")
            throw ExitCodes.unusableInput
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            printError("error: dot exited with status \(process.terminationStatus)")
            throw ExitCodes.diagnostics
        }
    }
}
