/// `Pod` and its parts read straight from JSON bytes, member for member as their `Decodable`
/// initialisers read them (the same defaults, required fields, interned strings; a member that
/// repeats keeps its first value, as with Foundation's decoder), so both decoders give equal
/// projections — the differential tests hold them to that. Label and annotation maps, container
/// lists and owner references equal to ones read before share their storage (through the
/// interner), as the pods of one workload carry the same. Everything else in a pod
/// (managedFields, volumes, env, probes, the rest of the status) is skipped without being built.

/// A required member that was absent.
func missing(_ name: String, at offset: Int) -> JSONCursorError {
    JSONCursorError(offset: offset, path: [name], message: "required member missing")
}

extension ObjectMeta: ByteDecodable {
    static let keys = JSONKeys("name", "namespace", "uid", "resourceVersion", "generation", "labels", "annotations", "ownerReferences",
                               "deletionTimestamp", "creationTimestamp")

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        self.init(name: "")
        try cursor.members(Self.keys) { (cursor, member) throws(JSONCursorError) in
            switch member {
            case 0: name = try cursor.optionalString() ?? ""
            case 1: namespace = try cursor.optionalString(interned: true)
            case 2: compactUID = try cursor.optionalStringValue(CompactUID.init(utf8:))
            case 3: resourceVersion = try cursor.optionalString()
            case 4: generation = try cursor.optionalInt()
            case 5: labels = try cursor.stringMap()
            case 6: annotations = try cursor.stringMap()
            case 7: ownerReferences = cursor.shared(try cursor.arrayOf(OwnerReference.self))
            case 8: deletionTimestamp = try cursor.optionalString()
            default: creationTimestamp = try cursor.optionalString()
            }
        }
    }
}

extension OwnerReference: ByteDecodable {
    static let keys = JSONKeys("kind", "name", "uid", "controller")

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        var kind: String?, name: String?, uid: String?, controller: Bool?
        let start = cursor.offset
        try cursor.members(Self.keys) { (cursor, member) throws(JSONCursorError) in
            switch member {
            case 0: kind = try cursor.string(interned: true)
            case 1: name = try cursor.string(interned: true)
            case 2: uid = try cursor.optionalString(interned: true)
            default: controller = try cursor.optionalBool()
            }
        }
        guard let kind else { throw missing("kind", at: start) }
        guard let name else { throw missing("name", at: start) }
        self.init(kind: kind, name: name, uid: uid, controller: controller)
    }
}

extension Pod: ByteDecodable {
    static let keys = JSONKeys("metadata", "spec", "status")

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        var metadata: ObjectMeta?
        var spec = PodSpec()
        var status = PodStatus()
        let start = cursor.offset
        try cursor.members(Self.keys) { (cursor, member) throws(JSONCursorError) in
            switch member {
            case 0: metadata = try ObjectMeta(reading: &cursor)
            case 1: spec = try cursor.skipNull() ? PodSpec() : try PodSpec(reading: &cursor)
            default: status = try cursor.skipNull() ? PodStatus() : try PodStatus(reading: &cursor)
            }
        }
        guard let metadata else { throw missing("metadata", at: start) }
        self.init(metadata: metadata, spec: spec, status: status)
    }
}

extension PodSpec: ByteDecodable {
    static let keys = JSONKeys("containers", "initContainers", "nodeName", "hostNetwork", "serviceAccountName")

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        self.init()
        try cursor.members(Self.keys) { (cursor, member) throws(JSONCursorError) in
            switch member {
            case 0: containers = cursor.shared(try cursor.arrayOf(Container.self))
            case 1: initContainers = cursor.shared(try cursor.arrayOf(Container.self))
            case 2: nodeName = try cursor.optionalString(interned: true)
            case 3: hostNetwork = try cursor.optionalBool() ?? false
            default: serviceAccountName = try cursor.optionalString(interned: true)
            }
        }
    }
}

extension Container: ByteDecodable {
    static let keys = JSONKeys("name", "image", "ports", "restartPolicy")

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        var name: String?, image: String?, restartPolicy: String?
        var ports: [ContainerPort] = []
        let start = cursor.offset
        try cursor.members(Self.keys) { (cursor, member) throws(JSONCursorError) in
            switch member {
            case 0: name = try cursor.string(interned: true)
            case 1: image = try cursor.optionalString(interned: true)
            case 2: ports = try cursor.arrayOf(ContainerPort.self)
            default: restartPolicy = try cursor.optionalString()
            }
        }
        guard let name else { throw missing("name", at: start) }
        self.init(name: name, image: image, ports: ports, restartPolicy: restartPolicy)
    }
}

extension ContainerPort: ByteDecodable {
    static let keys = JSONKeys("name", "containerPort", "protocol")

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        var name: String?, number: Int?, proto: String?
        let start = cursor.offset
        try cursor.members(Self.keys) { (cursor, member) throws(JSONCursorError) in
            switch member {
            case 0: name = try cursor.optionalString()
            case 1: number = try cursor.int()
            default: proto = try cursor.optionalString()
            }
        }
        guard let number else { throw missing("containerPort", at: start) }
        self.init(name: name, containerPort: number, protocol: proto ?? "TCP")
    }
}

extension PodStatus.PodIP: ByteDecodable {
    static let keys = JSONKeys("ip")

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        var ip: String?
        let start = cursor.offset
        try cursor.members(Self.keys) { (cursor, _) throws(JSONCursorError) in ip = try cursor.string() }
        guard let ip else { throw missing("ip", at: start) }
        self.init(ip: ip)
    }
}

extension PodStatus.ContainerStatus: ByteDecodable {
    static let keys = JSONKeys("name", "containerID")

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        var name: String?, containerID: CompactContainerID?
        let start = cursor.offset
        try cursor.members(Self.keys) { (cursor, member) throws(JSONCursorError) in
            if member == 0 { name = try cursor.string() } else { containerID = try cursor.optionalStringValue(CompactContainerID.init(utf8:)) }
        }
        guard let name else { throw missing("name", at: start) }
        self.init(name: name, compactContainerID: containerID)
    }
}

extension PodStatus: ByteDecodable {
    static let keys = JSONKeys("phase", "podIP", "podIPs", "hostIP", "conditions", "containerStatuses", "initContainerStatuses")
    static let conditionKeys = JSONKeys("type", "status")

    /// `status.conditions[]`: the first `Ready` condition's status; each condition's type is required.
    private static func readiness(_ cursor: inout JSONCursor) throws(JSONCursorError) -> String? {
        var ready: String?
        var found = false
        if try cursor.skipNull() { return nil }
        try cursor.array { (cursor) throws(JSONCursorError) in
            var type: String?, status: String?
            let start = cursor.offset
            try cursor.members(conditionKeys) { (cursor, member) throws(JSONCursorError) in
                if member == 0 { type = try cursor.string() } else { status = try cursor.optionalString() }
            }
            guard let type else { throw missing("type", at: start) }
            if type == "Ready", !found {
                found = true
                ready = status
            }
        }
        return ready
    }

    public init(reading cursor: inout JSONCursor) throws(JSONCursorError) {
        self.init()
        try cursor.members(Self.keys) { (cursor, member) throws(JSONCursorError) in
            switch member {
            case 0: phase = try cursor.optionalString(interned: true)
            case 1: podIP = try cursor.optionalString()
            case 2: podIPs = try cursor.arrayOf(PodIP.self)
            case 3: hostIP = try cursor.optionalString(interned: true)
            case 4: ready = try Self.readiness(&cursor).map { cursor.intern($0) }
            case 5: containerStatuses = try cursor.arrayOf(ContainerStatus.self)
            default: initContainerStatuses = try cursor.arrayOf(ContainerStatus.self)
            }
        }
    }
}
