import ArgumentParser
import ConfigGen
import CurlTransport
import DataTree
import Foundation
import KubeClient
import Logging
import Operator
import YAML

struct DashboardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboards", abstract: "Work with the dashboards netwatch generates.", subcommands: [Preview.self])

    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "preview",
            abstract: "Write an SVG picture of each generated dashboard's layout.",
            discussion: """
                Renders the manifests as `netwatch render` does and writes <uid>.svg for every dashboard: \
                panel titles, types and units at their grid positions. With --prometheus, each panel's \
                first query over the last 15 minutes is drawn as a sparkline (Grafana's interval variables \
                become 5m, the others match everything).
                """)

        @Option(name: .long, parsing: .upToNextOption, help: "Files or directories of manifests.")
        var input: [String]

        @Option(name: .long, help: "Directory for the SVG files.")
        var output: String

        @Option(name: .long, help: "A Prometheus to draw sparklines from, e.g. http://127.0.0.1:9090.")
        var prometheus: String?

        func run() async throws {
            let result = try loadAndRender(input)
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            var logger = Logger(label: "netwatch")
            logger.logLevel = .warning
            let transport = try prometheus.map { _ in try CurlTransport(logger: logger) }
            var written = 0
            for artifact in result.artifacts where artifact.role == .dashboard {
                guard let dashboard = try YAMLParser().parse(artifact.bytes, file: artifact.path).first?.node else { continue }
                var series: [Int: [Double]] = [:]
                if let prometheus, let transport {
                    for panel in dashboard["panels"]?.sequence ?? [] {
                        guard case .int(let id)? = panel["id"], let expr = panel["targets"]?.sequence?.first?["expr"]?.string else { continue }
                        series[id] = await Self.values(of: expr, from: prometheus, transport: transport)
                    }
                }
                let name = (artifact.path as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: ".svg")
                try Data(DashboardPreview.svg(dashboard, series: series)).write(to: URL(fileURLWithPath: output).appendingPathComponent(name))
                written += 1
            }
            printError("netwatch: \(written) dashboard preview(s) written under \(output)")
        }

        /// The first series of a range query over the last 15 minutes (5 s steps), or nil.
        static func values(of expr: String, from base: String, transport: CurlTransport) async -> [Double]? {
            var query = expr
            for variable in ["${__rate_interval}", "$__rate_interval", "${__interval}", "$__interval", "${__range}", "$__range"] {
                query = query.replacingOccurrences(of: variable, with: "5m")
            }
            query = query.replacingOccurrences(of: #"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?"#, with: ".+", options: .regularExpression)
            let end = Int(Date().timeIntervalSince1970)
            let parameters = [("query", query), ("start", String(end - 900)), ("end", String(end)), ("step", "5")]
            guard let url = PrometheusQueryClient.url(base, path: "/api/v1/query_range", parameters: parameters),
                  let response = try? await transport.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(10))), response.head.status == 200,
                  let body = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                  let result = (body["data"] as? [String: Any])?["result"] as? [[String: Any]],
                  let values = result.first?["values"] as? [[Any]] else { return nil }
            return values.compactMap { ($0.last as? String).flatMap(Double.init) }
        }
    }
}
