/// `NetworkDashboard` (netwatch.dev/v1alpha1): a Grafana dashboard from a preset, tuned by
/// thresholds and device exclusion, with custom panels appended.
///
/// Decoding checks structure only; presets, threshold keys and ranges, units and panel
/// expressions are checked when rendered, where a bad dashboard is skipped alone.
public struct NetworkDashboardSpec: Sendable, Hashable, Decodable {
    public var preset: String?
    public var title: String?
    /// Grafana folder (a ConfigMap annotation, or grafana-operator's `folder`).
    public var folder: String?
    public var excludeDevices: String?
    public var thresholds: [String: Double]
    public var panels: [Panel]

    public init(preset: String? = nil, title: String? = nil, folder: String? = nil, excludeDevices: String? = nil,
                thresholds: [String: Double] = [:], panels: [Panel] = []) {
        self.preset = preset
        self.title = title
        self.folder = folder
        self.excludeDevices = excludeDevices
        self.thresholds = thresholds
        self.panels = panels
    }

    private enum CodingKeys: String, CodingKey { case preset, title, folder, excludeDevices, thresholds, panels }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        preset = try container.decodeIfPresent(String.self, forKey: .preset)
        title = try container.decodeIfPresent(String.self, forKey: .title)
        folder = try container.decodeIfPresent(String.self, forKey: .folder)
        excludeDevices = try container.decodeIfPresent(String.self, forKey: .excludeDevices)
        thresholds = try container.decodeIfPresent([String: Double].self, forKey: .thresholds) ?? [:]
        panels = try container.decodeIfPresent([Panel].self, forKey: .panels) ?? []
    }

    /// A custom panel: one PromQL query (Grafana variables such as `$instance` and
    /// `$__rate_interval` allowed).
    public struct Panel: Sendable, Hashable, Decodable {
        public enum Kind: String, Sendable, Hashable, Decodable, CaseIterable { case timeseries, stat, gauge, table }

        public var title: String
        public var expr: String
        public var unit: String?
        public var type: Kind
        public var legend: String?

        public init(title: String, expr: String, unit: String? = nil, type: Kind = .timeseries, legend: String? = nil) {
            self.title = title
            self.expr = expr
            self.unit = unit
            self.type = type
            self.legend = legend
        }

        private enum CodingKeys: String, CodingKey { case title, expr, unit, type, legend }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            title = try container.decode(String.self, forKey: .title)
            expr = try container.decode(String.self, forKey: .expr)
            unit = try container.decodeIfPresent(String.self, forKey: .unit)
            type = try container.decodeIfPresent(Kind.self, forKey: .type) ?? .timeseries
            legend = try container.decodeIfPresent(String.self, forKey: .legend)
        }
    }
}

public typealias NetworkDashboard = CustomResource<NetworkDashboardSpec>
