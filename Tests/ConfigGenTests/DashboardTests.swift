import ConfigGen
import DataTree
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import KubeModel
import NetWatchAPI
import Testing
import YAML

@Suite("Dashboards")
struct DashboardTests {
    static func render(_ dashboards: String, delivery: String = "configMap", alerts: Bool = false) throws -> RenderResult {
        let yaml = """
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: s, namespace: mon}
            spec: {prometheus: {output: {directory: /etc/prometheus}}, monitorSelector: {}, dashboardSelector: {}, \(alerts ? "alertSelector: {}, " : "")grafana: {datasourceUID: prom-1, delivery: \(delivery)}}
            ---
            \(dashboards)
            """
        let objects = try YAMLParser().parse(yaml, file: "d.yaml").flatMap { ObjectReader.rawObjects(from: $0.node, source: SourceLocation(file: "d.yaml", line: $0.line)).0 }
        let (snapshot, problems) = Snapshot.decode(objects)
        #expect(problems.isEmpty, "\(problems)")
        return ConfigGen.render(snapshot)
    }

    static func json(_ artifact: Artifact) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(artifact.bytes)) as? [String: Any])
    }

    @Test("every preset: unique panel ids, no overlapping gridPos, datasource bound to the variable, every expr parses, known units")
    func presetsAreWellFormed() throws {
        let result = try Self.render(["node-network", "sockets", "mesh", "service-graph"].map { preset in
            "apiVersion: netwatch.dev/v1alpha1\nkind: NetworkDashboard\nmetadata: {name: \(preset), namespace: mon}\nspec: {preset: \(preset), panels: [{title: Extra, expr: 'sum(rate(x[$__rate_interval]))', unit: pps}]}"
        }.joined(separator: "\n---\n"))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let files = result.artifacts.filter { $0.role == .dashboard }
        #expect(files.count == 4)
        for file in files {
            let dashboard = try Self.json(file)
            let uid = try #require(dashboard["uid"] as? String)
            #expect(uid.count <= 40 && uid.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(file.path.hasSuffix("/\(uid).json"))
            let variables = ((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]]) ?? []
            let datasource = try #require(variables.first { $0["name"] as? String == "datasource" })
            #expect(datasource["type"] as? String == "datasource")
            #expect((datasource["current"] as? [String: Any])?["value"] as? String == "prom-1", "defaults to the stack's data source")
            let panels = (dashboard["panels"] as? [[String: Any]]) ?? []
            let ids = panels.compactMap { $0["id"] as? Int }
            #expect(ids.count == panels.count && Set(ids).count == ids.count, "panel ids are unique")
            var cells: Set<[Int]> = []
            for panel in panels {
                let grid = try #require(panel["gridPos"] as? [String: Int])
                let (x, y, w, h) = (grid["x"]!, grid["y"]!, grid["w"]!, grid["h"]!)
                #expect(x >= 0 && w >= 1 && x + w <= 24 && h >= 1)
                for column in x..<(x + w) {
                    for row in y..<(y + h) { #expect(cells.insert([column, row]).inserted, "\(panel["title"] ?? "") overlaps another panel") }
                }
                guard panel["type"] as? String != "row" else { continue }
                #expect((panel["datasource"] as? [String: String])?["uid"] == "${datasource}")
                let unit = ((panel["fieldConfig"] as? [String: Any])?["defaults"] as? [String: Any])?["unit"] as? String
                #expect(unit.map(GrafanaUnits.known.contains) == true, "\(panel["title"] ?? ""): unit \(unit ?? "none")")
                for target in (panel["targets"] as? [[String: Any]]) ?? [] {
                    #expect((target["datasource"] as? [String: String])?["uid"] == "${datasource}")
                    let expr = try #require(target["expr"] as? String)
                    #expect(DashboardGenerator.checkQuery(expr) == nil, "\(expr): \(String(describing: DashboardGenerator.checkQuery(expr)))")
                    for variable in expr.split(separator: "$").dropFirst().map({ $0.prefix { $0.isLetter || $0 == "_" } }) where !variable.hasPrefix("__") {
                        #expect(variables.contains { $0["name"] as? String == String(variable) }, "$\(variable) in \(expr) is not a template variable")
                    }
                }
            }
        }
    }

    @Test("delivery: sidecar ConfigMaps with folder annotations, grafana-operator objects, or files only; uid stable, version follows content")
    func delivery() throws {
        let dashboard = "apiVersion: netwatch.dev/v1alpha1\nkind: NetworkDashboard\nmetadata: {name: net, namespace: mon}\nspec: {preset: sockets, folder: Network}"
        let configMaps = try Self.render(dashboard)
        let map = try #require(configMaps.artifacts.first { $0.path.contains("/kubernetes/configmap-s-dashboard-") }, "\(configMaps.artifacts.map(\.path)) \(configMaps.diagnostics)")
        let node = try #require(try YAMLParser().parse(map.bytes, file: "cm").first?.node)
        #expect(node["metadata"]?["labels"]?["grafana_dashboard"] == "1")
        #expect(node["metadata"]?["annotations"]?["grafana_folder"] == "Network")
        #expect(node["metadata"]?["annotations"]?["k8s-sidecar-target-directory"] == "Network")
        let operatorObjects = try Self.render(dashboard, delivery: "grafanaOperator")
        let custom = try #require(operatorObjects.artifacts.first { $0.path.contains("/kubernetes/grafanadashboard-") })
        let cr = try #require(try YAMLParser().parse(custom.bytes, file: "cr").first?.node)
        #expect(cr["kind"] == "GrafanaDashboard" && cr["spec"]?["folder"] == "Network" && cr["spec"]?["json"]?.string?.hasPrefix("{") == true)
        let files = try Self.render(dashboard, delivery: "directory")
        #expect(!files.artifacts.contains { $0.role == .kubernetesManifest })
        #expect(files.artifacts.contains { $0.role == .dashboard })

        let first = try Self.json(try #require(configMaps.artifacts.first { $0.role == .dashboard }))
        let again = try Self.json(try #require(try Self.render(dashboard).artifacts.first { $0.role == .dashboard }))
        let changed = try Self.json(try #require(try Self.render(dashboard + "\n---\n", delivery: "configMap").artifacts.first { $0.role == .dashboard }))
        #expect(first["version"] as? Int == again["version"] as? Int)
        #expect(first["version"] as? Int == changed["version"] as? Int)
        let tuned = try Self.render("apiVersion: netwatch.dev/v1alpha1\nkind: NetworkDashboard\nmetadata: {name: net, namespace: mon}\nspec: {preset: sockets, folder: Network, thresholds: {timeWaitSockets: 500}}")
        let tunedJSON = try Self.json(try #require(tuned.artifacts.first { $0.role == .dashboard }))
        #expect(tunedJSON["uid"] as? String == first["uid"] as? String)
        #expect(tunedJSON["version"] as? Int != first["version"] as? Int)
    }

    @Test("the SVG preview is well-formed XML with one box per panel, and a sparkline where values are given")
    func preview() throws {
        let result = try Self.render("apiVersion: netwatch.dev/v1alpha1\nkind: NetworkDashboard\nmetadata: {name: net, namespace: mon}\nspec: {preset: node-network, title: A & B <nodes>}")
        let file = try #require(result.artifacts.first { $0.role == .dashboard })
        let dashboard = try #require(try YAMLParser().parse(file.bytes, file: file.path).first?.node)
        let panels = (dashboard["panels"]?.sequence ?? []).filter { $0["type"]?.string != "row" }
        guard case .int(let firstID)? = panels.first?["id"] else { Issue.record("no panel id"); return }
        let svg = String(decoding: DashboardPreview.svg(dashboard, series: [firstID: [1, 3, 2, 5]]), as: UTF8.self)
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(svg.components(separatedBy: "<g class=\"panel\">").count - 1 == panels.count)
        #expect(svg.components(separatedBy: "class=\"sparkline\"").count - 1 == 1)
        #expect(svg.contains("A &amp; B &lt;nodes&gt;"))
    }

    @Test("panels use the alert packs' recording rules when the stack loads them, raw queries otherwise")
    func recordingRules() throws {
        let dashboard = "apiVersion: netwatch.dev/v1alpha1\nkind: NetworkDashboard\nmetadata: {name: net, namespace: mon}\nspec: {preset: node-network}"
        func exprs(_ result: RenderResult) throws -> [String] {
            let json = try Self.json(try #require(result.artifacts.first { $0.role == .dashboard }))
            return ((json["panels"] as? [[String: Any]]) ?? []).flatMap { (($0["targets"] as? [[String: Any]]) ?? []).compactMap { $0["expr"] as? String } }
        }
        let raw = try exprs(try Self.render(dashboard))
        #expect(!raw.contains { $0.contains("instance_device:") })
        let withRules = try exprs(try Self.render(dashboard.replacingOccurrences(of: "spec: {preset", with: "spec: {preset") + """

            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkAlerts
            metadata: {name: a, namespace: mon}
            spec: {packs: [{name: node-network}]}
            """, alerts: true))
        #expect(withRules.contains { $0.hasPrefix("instance_device:node_network_receive_bytes:rate5m{") })
        #expect(withRules.allSatisfy { DashboardGenerator.checkQuery($0) == nil })
    }

    @Test("docs/dashboards.md lists every preset as the catalog defines it")
    func documentIsCurrent() throws {
        let url = repositoryRoot.appendingPathComponent("docs/dashboards.md")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try BuiltInDashboards.markdown().write(to: url, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == BuiltInDashboards.markdown(), "run `make golden` after changing the presets")
    }

    @Test("bad input: unknown preset, unknown unit, invalid expr, threshold out of range skip that dashboard alone")
    func badInput() throws {
        let result = try Self.render("""
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkDashboard
            metadata: {name: a, namespace: mon}
            spec: {preset: nope}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkDashboard
            metadata: {name: b, namespace: mon}
            spec: {preset: sockets, panels: [{title: X, expr: 'rate(x)', unit: furlongs}]}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkDashboard
            metadata: {name: c, namespace: mon}
            spec: {preset: mesh, thresholds: {errorRatio: 2}}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkDashboard
            metadata: {name: good, namespace: mon}
            spec: {preset: node-network}
            """)
        let messages = result.diagnostics.map { "\($0.object?.name ?? "") \($0.field ?? ""): \($0.message)" }
        #expect(messages.contains { $0.hasPrefix("a spec.preset: \"nope\" is not a preset") })
        #expect(messages.contains { $0.hasPrefix("b spec.panels[0].unit: \"furlongs\" is not a Grafana unit") })
        #expect(messages.contains { $0.hasPrefix("b spec.panels[0].expr: expected type range vector") })
        #expect(messages.contains { $0.hasPrefix("c spec.thresholds.errorRatio: 2 is out of range") })
        #expect(result.artifacts.filter { $0.role == .dashboard }.count == 1)
    }
}
