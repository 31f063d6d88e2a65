import Foundation
import Testing

/// A rendered dashboard's queries as Grafana would run them: template variables resolved from
/// their label_values() queries (multi-value ones joined as a regex alternation), then every
/// panel target's expression with the variables substituted.
struct DashboardQueries {
    /// The variables' values, `__rate_interval` included.
    private(set) var values: [String: String] = ["__rate_interval": "1m"]
    let json: [String: Any]

    /// `labelValues(selector, label)` answers as Prometheus's /api/v1/label/<label>/values.
    init(_ bytes: [UInt8], labelValues: (String, String) async throws -> [String]) async throws {
        json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        for variable in ((json["templating"] as? [String: Any])?["list"] as? [[String: Any]]) ?? [] where variable["type"] as? String == "query" {
            let name = try #require(variable["name"] as? String)
            var query = try #require(variable["query"] as? String)
            for (key, value) in values { query = query.replacingOccurrences(of: "$\(key)", with: value) }
            // label_values(<selector>, <label>)
            let inner = query.dropFirst("label_values(".count).dropLast()
            let comma = try #require(inner.lastIndex(of: ","))
            let selector = String(inner[..<comma]), label = inner[inner.index(after: comma)...].trimmingCharacters(in: .whitespaces)
            let found = try await labelValues(selector, label)
            #expect(!found.isEmpty, "variable \(name): \(query) found nothing")
            values[name] = (variable["multi"] as? Bool == true) ? found.joined(separator: "|") : (found.first ?? "")
        }
    }

    /// (panel title, expression) of every panel target, variables substituted.
    var targets: [(title: String, expr: String)] {
        var targets: [(String, String)] = []
        for panel in (json["panels"] as? [[String: Any]]) ?? [] where panel["type"] as? String != "row" {
            for target in (panel["targets"] as? [[String: Any]]) ?? [] {
                guard var expr = target["expr"] as? String else { continue }
                for (key, value) in values.sorted(by: { $0.key.count > $1.key.count }) { expr = expr.replacingOccurrences(of: "$\(key)", with: value) }
                targets.append((panel["title"] as? String ?? "", expr))
            }
        }
        return targets
    }
}
