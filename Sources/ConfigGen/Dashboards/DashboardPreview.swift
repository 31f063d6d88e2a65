public import DataTree

/// An SVG picture of a dashboard's layout: each panel at its grid position with its title, type
/// and unit, row headers as bars, and — where values are given — a sparkline of the panel's
/// first query. Pure: the caller fetches the values (e.g. `netwatch dashboards preview
/// --prometheus URL`).
public enum DashboardPreview {
    static let columnWidth = 40
    static let rowHeight = 30

    /// `dashboard` is the dashboard JSON as a tree; `series` maps panel id to values in time order.
    public static func svg(_ dashboard: Node, series: [Int: [Double]] = [:]) -> [UInt8] {
        let panels = dashboard["panels"]?.sequence ?? []
        var bottom = 1
        for panel in panels {
            if let y = int(panel["gridPos"]?["y"]), let h = int(panel["gridPos"]?["h"]) { bottom = max(bottom, y + h) }
        }
        let width = 24 * columnWidth, headerHeight = 40
        let height = headerHeight + bottom * rowHeight + 10
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\">\n"
        out += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#111217\"/>\n"
        out += "<text x=\"10\" y=\"26\" font-size=\"18\" fill=\"#d8d9da\">\(escape(dashboard["title"]?.string ?? ""))</text>\n"
        for panel in panels {
            guard let x = int(panel["gridPos"]?["x"]), let y = int(panel["gridPos"]?["y"]),
                  let w = int(panel["gridPos"]?["w"]), let h = int(panel["gridPos"]?["h"]) else { continue }
            let left = x * columnWidth + 2, top = headerHeight + y * rowHeight + 2
            let boxWidth = w * columnWidth - 4, boxHeight = h * rowHeight - 4
            let title = escape(panel["title"]?.string ?? "")
            if panel["type"]?.string == "row" {
                out += "<text x=\"\(left + 4)\" y=\"\(top + 18)\" font-size=\"14\" font-weight=\"bold\" fill=\"#d8d9da\">\(title)</text>\n"
                continue
            }
            out += "<g class=\"panel\"><rect x=\"\(left)\" y=\"\(top)\" width=\"\(boxWidth)\" height=\"\(boxHeight)\" rx=\"3\" fill=\"#181b1f\" stroke=\"#2c3235\"/>\n"
            out += "<text x=\"\(left + 8)\" y=\"\(top + 18)\" font-size=\"13\" fill=\"#d8d9da\">\(title)</text>\n"
            let unit = panel["fieldConfig"]?["defaults"]?["unit"]?.string ?? ""
            out += "<text x=\"\(left + 8)\" y=\"\(top + boxHeight - 8)\" font-size=\"10\" fill=\"#8e8e8e\">\(escape(panel["type"]?.string ?? "")) · \(escape(unit))</text>\n"
            if let id = int(panel["id"]), let values = series[id], values.count >= 2 {
                out += sparkline(values, left: left + 8, top: top + 28, width: boxWidth - 16, height: boxHeight - 48)
            }
            out += "</g>\n"
        }
        out += "</svg>\n"
        return Array(out.utf8)
    }

    static func sparkline(_ values: [Double], left: Int, top: Int, width: Int, height: Int) -> String {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max(), height > 4 else { return "" }
        let span = high > low ? high - low : 1
        var points: [String] = []
        for (index, value) in values.enumerated() where value.isFinite {
            let x = Double(left) + Double(width) * Double(index) / Double(max(1, values.count - 1))
            let y = Double(top) + Double(height) * (1 - (value - low) / span)
            points.append("\(Int(x.rounded())),\(Int(y.rounded()))")
        }
        return "<polyline class=\"sparkline\" fill=\"none\" stroke=\"#73bf69\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>\n"
    }

    static func int(_ node: Node?) -> Int? {
        if case .int(let value)? = node { return value }
        return nil
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
