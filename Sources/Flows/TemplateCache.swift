/// The templates (and IPFIX boot times) a flow collector keeps, per exporter session.
///
/// Over UDP a template belongs to its transport session (exporter address and port) and
/// observation domain, and it lives only as long as the exporter keeps refreshing it
/// (RFC 7011 §8.4, RFC 3954 §9). The cache is bounded so that no exporter, and no crowd of
/// exporters, can lock the others out:
///
/// - each session keeps at most `limits.templatesPerExporter` templates and
///   `limits.fieldsPerExporter` field specifiers; new templates past either are refused
///   (counted), while the session's existing templates and every other session keep working;
/// - a template not refreshed within `limits.templateLifetime` expires, and a session with no
///   template left and no packet within that lifetime is forgotten;
/// - at most `limits.exporters` sessions and `limits.fields` field specifiers in all are kept;
///   past either, the least recently heard-from session is evicted (a real exporter resends its
///   templates and comes back).
///
/// Memory is therefore at most about `limits.fields` × 12 bytes for field specifiers plus a few
/// hundred bytes per session.
public struct TemplateCache: Sendable {
    public struct Limits: Sendable, Hashable {
        public var exporters: Int
        public var templatesPerExporter: Int
        public var fieldsPerExporter: Int
        public var fields: Int
        /// Milliseconds a template stays usable after it was last received.
        public var templateLifetime: Int64

        /// 4,096 sessions; 256 templates and 8,192 fields per session; 1,048,576 fields in all
        /// (about 12 MB); templates live 30 minutes (three times the refresh interval of
        /// common exporters, which resend every 1 to 10 minutes).
        public static let standard = Limits(exporters: 4096, templatesPerExporter: 256, fieldsPerExporter: 8192, fields: 1 << 20, templateLifetime: 30 * 60 * 1000)

        public init(exporters: Int, templatesPerExporter: Int, fieldsPerExporter: Int, fields: Int, templateLifetime: Int64) {
            self.exporters = exporters
            self.templatesPerExporter = templatesPerExporter
            self.fieldsPerExporter = fieldsPerExporter
            self.fields = fields
            self.templateLifetime = templateLifetime
        }
    }

    /// What the cache refused or forgot; all only grow.
    public struct Counters: Sendable, Hashable {
        /// Templates not stored because their session was at its limit.
        public var refusedTemplates = 0
        /// Templates dropped because they were not refreshed within their lifetime.
        public var expiredTemplates = 0
        /// Sessions evicted to make room for others.
        public var evictedExporters = 0
        public init() {}
    }

    struct Key: Hashable, Sendable {
        var domain: UInt32
        var id: UInt16
        var version: UInt16
    }

    struct Stored: Sendable {
        var template: FlowExportDecoder.Template
        var received: Int64
    }

    struct Session: Sendable {
        var templates: [Key: Stored] = [:]
        var fields = 0
        /// systemInitTimeMilliseconds per observation domain (IPFIX options data).
        var bootTimes: [UInt32: Int64] = [:]
        var lastSeen: Int64
        /// Templates that expired (at most as many as the session could keep), so that data
        /// arriving for them is told apart from data before any template.
        var expired: Set<Key> = []
    }

    public let limits: Limits
    public private(set) var counters = Counters()
    var sessions: [String: Session] = [:]
    var fields = 0
    var lastSweep: Int64?

    public init(limits: Limits = .standard) {
        self.limits = limits
    }

    /// Sessions kept now.
    public var exporterCount: Int { sessions.count }
    /// Templates kept now, over all sessions.
    public var templateCount: Int { sessions.values.reduce(0) { $0 + $1.templates.count } }

    /// Notes a packet from `exporter` at `now` (milliseconds), expiring what has outlived its
    /// lifetime at most once a minute so that a packet costs O(1) on average.
    mutating func heard(from exporter: String, at now: Int64) {
        if let lastSweep, now >= lastSweep, now - lastSweep < 60_000 {} else { expire(at: now) }
        sessions[exporter]?.lastSeen = now
    }

    /// The template `id` of `exporter`'s `domain`, if it is kept and not expired.
    func template(exporter: String, domain: UInt32, id: UInt16, version: UInt16, at now: Int64) -> FlowExportDecoder.Template? {
        guard let stored = sessions[exporter]?.templates[Key(domain: domain, id: id, version: version)],
              now - stored.received <= limits.templateLifetime else { return nil }
        return stored.template
    }

    /// Whether the template is kept but has outlived its lifetime (not yet swept).
    func hasExpired(exporter: String, domain: UInt32, id: UInt16, version: UInt16) -> Bool {
        guard let session = sessions[exporter] else { return false }
        let key = Key(domain: domain, id: id, version: version)
        return session.templates[key] != nil || session.expired.contains(key)
    }

    /// Stores (or refreshes) a template; false when its session is at a limit.
    mutating func store(_ template: FlowExportDecoder.Template, exporter: String, domain: UInt32, id: UInt16, version: UInt16, at now: Int64) -> Bool {
        let key = Key(domain: domain, id: id, version: version)
        let session = sessions[exporter]
        let previous = session?.templates[key]?.template.fields.count
        let added = template.fields.count - (previous ?? 0)
        if (previous == nil && (session?.templates.count ?? 0) >= limits.templatesPerExporter) || (session?.fields ?? 0) + added > limits.fieldsPerExporter {
            counters.refusedTemplates += 1
            return false
        }
        // Changed in place: a copy written back would copy the session's tables each time.
        sessions[exporter, default: Session(lastSeen: now)].templates[key] = Stored(template: template, received: now)
        sessions[exporter]!.expired.remove(key)
        sessions[exporter]!.fields += added
        sessions[exporter]!.lastSeen = now
        fields += added
        evictWhileOverLimits(keeping: exporter)
        return true
    }

    /// Removes one template, or (IPFIX withdrawal of set ID 2 or 3) every template or every
    /// options template of the domain.
    mutating func withdraw(exporter: String, domain: UInt32, id: UInt16, version: UInt16) {
        guard var session = sessions[exporter] else { return }
        let removed = session.templates.filter { key, stored in
            guard key.domain == domain, key.version == version else { return false }
            if id == 2 || id == 3 { return stored.template.isOptions == (id == 3) }
            return key.id == id
        }
        for (key, stored) in removed {
            session.templates[key] = nil
            session.fields -= stored.template.fields.count
            fields -= stored.template.fields.count
        }
        sessions[exporter] = session
    }

    func bootTime(exporter: String, domain: UInt32) -> Int64? {
        sessions[exporter]?.bootTimes[domain]
    }

    /// Records an exporter's boot time; a session that sent an options template exists, and
    /// its domains are bounded by its templates, so this adds at most one entry per template.
    mutating func setBootTime(_ milliseconds: Int64, exporter: String, domain: UInt32) {
        guard var session = sessions[exporter] else { return }
        if session.bootTimes[domain] == nil, session.bootTimes.count >= limits.templatesPerExporter { return }
        session.bootTimes[domain] = milliseconds
        sessions[exporter] = session
    }

    /// Drops templates older than their lifetime and sessions left empty and silent as long.
    mutating func expire(at now: Int64) {
        lastSweep = now
        for (exporter, var session) in sessions {
            let expired = session.templates.filter { now - $0.value.received > limits.templateLifetime }
            for (key, stored) in expired {
                session.templates[key] = nil
                session.fields -= stored.template.fields.count
                fields -= stored.template.fields.count
                if session.expired.count < limits.templatesPerExporter { session.expired.insert(key) }
            }
            counters.expiredTemplates += expired.count
            if session.templates.isEmpty, now - session.lastSeen > limits.templateLifetime {
                sessions[exporter] = nil
            } else if !expired.isEmpty {
                sessions[exporter] = session
            }
        }
    }

    /// Evicts the least recently heard-from sessions (never `keeping`) until both global
    /// limits hold.
    mutating func evictWhileOverLimits(keeping exporter: String) {
        while sessions.count > limits.exporters || fields > limits.fields {
            guard let oldest = sessions.lazy.filter({ $0.key != exporter }).min(by: { $0.value.lastSeen < $1.value.lastSeen }) else { return }
            fields -= oldest.value.fields
            sessions[oldest.key] = nil
            counters.evictedExporters += 1
        }
    }
}
