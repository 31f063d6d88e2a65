/// The metadata every Kubernetes object carries; the fields netwatch reads.
public struct ObjectMeta: Sendable, Hashable, Decodable {
    public var name: String
    public var namespace: String?
    /// Packed when it is a UUID (`CompactUID`), as Kubernetes writes uids.
    var compactUID: CompactUID?
    public var resourceVersion: String?
    public var generation: Int?
    public var labels: [String: String]
    public var annotations: [String: String]
    /// Owners (a pod's ReplicaSet, Job …): how flows and injection name the workload.
    public var ownerReferences: [OwnerReference]
    /// Set once deletion started (finalizers pending); the object is on its way out.
    public var deletionTimestamp: String?
    /// RFC 3339; when flows are attributed, a pod owns its IP only from here on.
    public var creationTimestamp: String?

    public var uid: String? {
        get { compactUID?.string }
        set { compactUID = newValue.map(CompactUID.init) }
    }

    public init(
        name: String, namespace: String? = nil, labels: [String: String] = [:], annotations: [String: String] = [:],
        uid: String? = nil, resourceVersion: String? = nil, generation: Int? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        compactUID = uid.map(CompactUID.init)
        self.resourceVersion = resourceVersion
        self.generation = generation
        ownerReferences = []
        deletionTimestamp = nil
        creationTimestamp = nil
    }

    private enum CodingKeys: String, CodingKey {
        case name, namespace, uid, resourceVersion, generation, labels, annotations, ownerReferences, deletionTimestamp, creationTimestamp
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        namespace = decoder.interned(try container.decodeIfPresent(String.self, forKey: .namespace))
        compactUID = try container.decodeIfPresent(String.self, forKey: .uid).map(CompactUID.init)
        resourceVersion = try container.decodeIfPresent(String.self, forKey: .resourceVersion)
        generation = try container.decodeIfPresent(Int.self, forKey: .generation)
        labels = decoder.interned(try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:])
        annotations = decoder.interned(try container.decodeIfPresent([String: String].self, forKey: .annotations) ?? [:])
        ownerReferences = try container.decodeIfPresent([OwnerReference].self, forKey: .ownerReferences) ?? []
        deletionTimestamp = try container.decodeIfPresent(String.self, forKey: .deletionTimestamp)
        creationTimestamp = try container.decodeIfPresent(String.self, forKey: .creationTimestamp)
    }
}

/// `metadata.ownerReferences[]`: the fields netwatch reads.
public struct OwnerReference: Sendable, Hashable, Decodable {
    public var kind: String
    public var name: String
    public var uid: String?
    public var controller: Bool?

    private enum CodingKeys: String, CodingKey { case kind, name, uid, controller }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = decoder.interned(try container.decode(String.self, forKey: .kind))
        name = decoder.interned(try container.decode(String.self, forKey: .name))
        uid = decoder.interned(try container.decodeIfPresent(String.self, forKey: .uid))
        controller = try container.decodeIfPresent(Bool.self, forKey: .controller)
    }

    public init(kind: String, name: String, uid: String? = nil, controller: Bool? = nil) {
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
    }
}

/// `apiVersion` and `kind`, and the group/version split of `apiVersion`.
public struct TypeMeta: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String

    public init(apiVersion: String, kind: String) {
        self.apiVersion = apiVersion
        self.kind = kind
    }

    /// The API group: `""` for the core group (`v1`), `apps` for `apps/v1`.
    public var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }
}

/// Names an object for messages and indexes: kind, namespace and name.
public struct ObjectReference: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var kind: String
    public var namespace: String?
    public var name: String

    public init(kind: String, namespace: String?, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// `Kind namespace/name`, or `Kind name` for cluster-scoped objects, as kubectl prints them.
    public var description: String {
        if let namespace { return "\(kind) \(namespace)/\(name)" }
        return "\(kind) \(name)"
    }

    /// `namespace/name`, or `name` for cluster-scoped objects (kubectl's and logs' short form).
    public var namespacedName: String {
        if let namespace { return "\(namespace)/\(name)" }
        return name
    }

    public static func < (lhs: ObjectReference, rhs: ObjectReference) -> Bool {
        (lhs.kind, lhs.namespace ?? "", lhs.name) < (rhs.kind, rhs.namespace ?? "", rhs.name)
    }
}

/// Kubernetes' rules for object names, which netwatch also turns into file and object names.
public enum KubernetesName {
    /// DNS-1123 label: at most 63 of `[a-z0-9-]`, starting and ending alphanumeric (namespaces,
    /// Services).
    public static func labelProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 63 else { return "must be 1 to 63 characters" }
        guard name.utf8.allSatisfy({ isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }),
              let first = name.utf8.first, let last = name.utf8.last, isLower(first) || isDigit(first), isLower(last) || isDigit(last) else {
            return "must be lower-case letters, digits and '-', starting and ending with a letter or digit (a DNS-1123 label)"
        }
        return nil
    }

    /// DNS-1123 subdomain: at most 253 characters, dot-separated labels of `[a-z0-9-]` (most
    /// kinds, ConfigMaps and Secrets included).
    public static func subdomainProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 253 else { return "must be 1 to 253 characters" }
        for part in name.split(separator: ".", omittingEmptySubsequences: false) where labelProblem(String(part)) != nil || part.isEmpty {
            return "must be lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit (a DNS-1123 subdomain)"
        }
        return nil
    }

    /// What every kind's name must be (`IsValidPathSegmentName`): not `.` or `..`, no `/` or `%`.
    public static func pathSegmentProblem(_ name: String) -> String? {
        if name == "." || name == ".." { return "may not be '.' or '..'" }
        if name.contains("/") || name.contains("%") { return "may not contain '/' or '%'" }
        return nil
    }

    private static func isLower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}

extension ObjectMeta {
    /// Set on the stand-in netwatch keeps for an object the API server sent but that could not
    /// be read (too deeply nested, wrong types): the problem. Such an object is reported, never
    /// rendered.
    public static let unreadableAnnotation = "netwatch.dev/unreadable"
}
