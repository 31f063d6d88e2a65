public import DataTree

/// A Namespace; its labels drive namespace selectors.
public struct Namespace: Sendable, Hashable, Decodable {
    public var metadata: ObjectMeta

    public init(metadata: ObjectMeta) {
        self.metadata = metadata
    }
}

/// An integer or a string, as Kubernetes uses for ports (`targetPort: 8080` or `targetPort: http`).
public enum IntOrString: Sendable, Hashable, Decodable, CustomStringConvertible {
    case int(Int)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .string(let value): value
        }
    }
}

/// A Service: its selector and ports, so flows and policies can name the server side.
public struct Service: Sendable, Hashable, Decodable {
    public struct Port: Sendable, Hashable, Decodable {
        public var name: String?
        public var port: Int
        public var targetPort: IntOrString?
        public var `protocol`: String?

        public init(name: String? = nil, port: Int, targetPort: IntOrString? = nil, protocol: String? = nil) {
            self.name = name
            self.port = port
            self.targetPort = targetPort
            self.protocol = `protocol`
        }
    }

    public struct Spec: Sendable, Hashable, Decodable {
        public var selector: [String: String]?
        public var ports: [Port]?
        public var clusterIP: String?
        public var type: String?

        public init(selector: [String: String]? = nil, ports: [Port]? = nil, clusterIP: String? = nil, type: String? = nil) {
            self.selector = selector
            self.ports = ports
            self.clusterIP = clusterIP
            self.type = type
        }
    }

    public var metadata: ObjectMeta
    public var spec: Spec

    public init(metadata: ObjectMeta, spec: Spec = Spec()) {
        self.metadata = metadata
        self.spec = spec
    }
}

/// A workload that stamps pods from a template: Deployment, StatefulSet, DaemonSet, ReplicaSet,
/// Job or CronJob (whose template sits under `spec.jobTemplate.spec.template`).
public struct Workload: Sendable, Hashable {
    public static let kinds: Set<String> = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]

    public var kind: String
    public var metadata: ObjectMeta
    public var template: PodTemplateSpec
    /// The whole object as read (for injection patches, which diff the pod template).
    public var document: Node?

    public init(kind: String, metadata: ObjectMeta, template: PodTemplateSpec, document: Node? = nil) {
        self.kind = kind
        self.metadata = metadata
        self.template = template
        self.document = document
    }

    /// Where the pod template sits in an object of `kind`.
    public static func templatePath(kind: String) -> [String] {
        kind == "CronJob" ? ["spec", "jobTemplate", "spec", "template"] : ["spec", "template"]
    }

    /// `spec.selector.matchLabels` of the object as read; nil when absent or empty.
    public var matchLabels: [String: String]? {
        let labels = document?["spec"]?["selector"]?["matchLabels"]?.stringValues ?? [:]
        return labels.isEmpty ? nil : labels
    }
}
