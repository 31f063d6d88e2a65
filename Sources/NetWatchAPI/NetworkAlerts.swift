
/// `NetworkAlerts` (netwatch.dev/v1alpha1): built-in rule packs with their knobs, plus custom
/// rule groups in Prometheus rule-file syntax.
///
/// Decoding checks structure only. What a pack's knobs mean (known threshold keys, ranges,
/// alert names, durations) is checked when it is rendered, so a bad pack is skipped alone with
/// a diagnostic and the rest of the object still renders.
public struct NetworkAlertsSpec: Sendable, Hashable, Decodable {
    public var packs: [Pack]
    public var groups: [RuleGroup]
    /// Where `runbook_url` annotations point: `<runbookBaseURL>/<AlertName>.md`.
    public var runbookBaseURL: String?

    public static let defaultRunbookBaseURL = "https://github.com/netwatch-dev/netwatch/blob/main/docs/runbooks"

    public init(packs: [Pack] = [], groups: [RuleGroup] = [], runbookBaseURL: String? = nil) {
        self.packs = packs
        self.groups = groups
        self.runbookBaseURL = runbookBaseURL
    }

    private enum CodingKeys: String, CodingKey { case packs, groups, runbookBaseURL }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        packs = try container.decodeIfPresent([Pack].self, forKey: .packs) ?? []
        groups = try container.decodeIfPresent([RuleGroup].self, forKey: .groups) ?? []
        runbookBaseURL = try container.decodeIfPresent(String.self, forKey: .runbookBaseURL)
    }

    /// One built-in pack and its knobs.
    public struct Pack: Sendable, Hashable, Decodable {
        public var name: String
        /// Regex of network devices to leave out (default `NetworkDevices.defaultExclusion`: the
        /// loopback, container veths and CNI devices).
        public var excludeDevices: String?
        /// Threshold key → value (keys per pack; see docs/alerts.md).
        public var thresholds: [String: Double]
        /// Alert name → `for` duration.
        public var `for`: [String: String]
        /// Alert name → severity (critical, warning, info).
        public var severity: [String: String]
        /// Alert names left out.
        public var disabled: [String]

        public init(name: String, excludeDevices: String? = nil, thresholds: [String: Double] = [:], for: [String: String] = [:], severity: [String: String] = [:], disabled: [String] = []) {
            self.name = name
            self.excludeDevices = excludeDevices
            self.thresholds = thresholds
            self.for = `for`
            self.severity = severity
            self.disabled = disabled
        }

        private enum CodingKeys: String, CodingKey { case name, excludeDevices, thresholds, `for`, severity, disabled }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            excludeDevices = try container.decodeIfPresent(String.self, forKey: .excludeDevices)
            thresholds = try container.decodeIfPresent([String: Double].self, forKey: .thresholds) ?? [:]
            self.for = try container.decodeIfPresent([String: String].self, forKey: .for) ?? [:]
            severity = try container.decodeIfPresent([String: String].self, forKey: .severity) ?? [:]
            disabled = try container.decodeIfPresent([String].self, forKey: .disabled) ?? []
        }
    }
}

/// A rule group in Prometheus rule-file syntax.
public struct RuleGroup: Sendable, Hashable, Decodable {
    public var name: String
    public var interval: PrometheusDuration?
    public var rules: [Rule]

    public init(name: String, interval: PrometheusDuration? = nil, rules: [Rule]) {
        self.name = name
        self.interval = interval
        self.rules = rules
    }

    private enum CodingKeys: String, CodingKey { case name, interval, rules }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        interval = try container.decodeIfPresent(PrometheusDuration.self, forKey: .interval)
        rules = try container.decodeIfPresent([Rule].self, forKey: .rules) ?? []
    }

    /// An alerting rule (`alert`) or a recording rule (`record`).
    public struct Rule: Sendable, Hashable, Decodable {
        public var alert: String?
        public var record: String?
        public var expr: String
        public var `for`: PrometheusDuration?
        public var keepFiringFor: PrometheusDuration?
        public var labels: [String: String]
        public var annotations: [String: String]

        public init(alert: String? = nil, record: String? = nil, expr: String, for: PrometheusDuration? = nil, keepFiringFor: PrometheusDuration? = nil,
                    labels: [String: String] = [:], annotations: [String: String] = [:]) {
            self.alert = alert
            self.record = record
            self.expr = expr
            self.for = `for`
            self.keepFiringFor = keepFiringFor
            self.labels = labels
            self.annotations = annotations
        }

        private enum CodingKeys: String, CodingKey {
            case alert, record, expr, `for`
            case keepFiringFor = "keep_firing_for"
            case labels, annotations
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            alert = try container.decodeIfPresent(String.self, forKey: .alert)
            record = try container.decodeIfPresent(String.self, forKey: .record)
            if let text = try? container.decode(String.self, forKey: .expr) {
                expr = text
            } else {
                expr = String(try container.decode(Int.self, forKey: .expr))  // `expr: 1` in YAML is a valid PromQL number
            }
            self.for = try container.decodeIfPresent(PrometheusDuration.self, forKey: .for)
            keepFiringFor = try container.decodeIfPresent(PrometheusDuration.self, forKey: .keepFiringFor)
            labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
            annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:]
        }

        /// The rule's name, for messages: its alert or record name.
        public var name: String { alert ?? record ?? "" }
    }
}

public typealias NetworkAlerts = CustomResource<NetworkAlertsSpec>
