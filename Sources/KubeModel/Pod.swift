/// A Pod: the fields scrape discovery, injection and flow attribution read.
///
/// A value type whose fields live in one shared box: pods are copied into stores, change
/// batches, snapshots and indexes, and a copy is then one reference (8 bytes and a retain)
/// instead of some 280 bytes of fields with a retain for each. Writing a field of a pod whose
/// box is shared copies the box first, so copies never see each other's writes.
public struct Pod: Sendable, Hashable, Decodable {
    private final class Storage: @unchecked Sendable {
        // Mutated only through a `Pod` holding the sole reference (checked before each write).
        var metadata: ObjectMeta
        var spec: PodSpec
        var status: PodStatus

        init(metadata: ObjectMeta, spec: PodSpec, status: PodStatus) {
            self.metadata = metadata
            self.spec = spec
            self.status = status
        }
    }

    private var storage: Storage

    public var metadata: ObjectMeta {
        _read { yield storage.metadata }
        _modify {
            makeStorageUnique()
            yield &storage.metadata
        }
    }

    public var spec: PodSpec {
        _read { yield storage.spec }
        _modify {
            makeStorageUnique()
            yield &storage.spec
        }
    }

    public var status: PodStatus {
        _read { yield storage.status }
        _modify {
            makeStorageUnique()
            yield &storage.status
        }
    }

    // Reads borrow the boxed field and writes change it in place (`_read`/`_modify`): a getter
    // would copy the whole field, retaining each of its members, on every `pod.metadata.name`.
    private mutating func makeStorageUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = Storage(metadata: storage.metadata, spec: storage.spec, status: storage.status)
        }
    }

    public init(metadata: ObjectMeta, spec: PodSpec, status: PodStatus = PodStatus()) {
        storage = Storage(metadata: metadata, spec: spec, status: status)
    }

    public static func == (lhs: Pod, rhs: Pod) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.storage.metadata == rhs.storage.metadata && lhs.storage.spec == rhs.storage.spec && lhs.storage.status == rhs.storage.status)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.metadata)
        hasher.combine(storage.spec)
        hasher.combine(storage.status)
    }

    private enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(metadata: try container.decode(ObjectMeta.self, forKey: .metadata),
                  spec: try container.decodeIfPresent(PodSpec.self, forKey: .spec) ?? PodSpec(),
                  status: try container.decodeIfPresent(PodStatus.self, forKey: .status) ?? PodStatus())
    }
}

public struct PodSpec: Sendable, Hashable, Decodable {
    public var containers: [Container]
    public var initContainers: [Container]
    public var nodeName: String?
    public var hostNetwork: Bool
    public var serviceAccountName: String?

    public init(containers: [Container] = [], initContainers: [Container] = [], nodeName: String? = nil, hostNetwork: Bool = false) {
        self.containers = containers
        self.initContainers = initContainers
        self.nodeName = nodeName
        self.hostNetwork = hostNetwork
    }

    private enum CodingKeys: String, CodingKey { case containers, initContainers, nodeName, hostNetwork, serviceAccountName }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        containers = try container.decodeIfPresent([Container].self, forKey: .containers) ?? []
        initContainers = try container.decodeIfPresent([Container].self, forKey: .initContainers) ?? []
        nodeName = decoder.interned(try container.decodeIfPresent(String.self, forKey: .nodeName))
        hostNetwork = try container.decodeIfPresent(Bool.self, forKey: .hostNetwork) ?? false
        serviceAccountName = decoder.interned(try container.decodeIfPresent(String.self, forKey: .serviceAccountName))
    }
}

public struct Container: Sendable, Hashable, Decodable {
    public var name: String
    public var image: String?
    public var ports: [ContainerPort]
    /// `Always` on an init container makes it a native sidecar (Kubernetes ≥ 1.29).
    public var restartPolicy: String?

    public init(name: String, image: String? = nil, ports: [ContainerPort] = [], restartPolicy: String? = nil) {
        self.name = name
        self.image = image
        self.ports = ports
        self.restartPolicy = restartPolicy
    }

    private enum CodingKeys: String, CodingKey { case name, image, ports, restartPolicy }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = decoder.interned(try container.decode(String.self, forKey: .name))
        image = decoder.interned(try container.decodeIfPresent(String.self, forKey: .image))
        ports = try container.decodeIfPresent([ContainerPort].self, forKey: .ports) ?? []
        restartPolicy = try container.decodeIfPresent(String.self, forKey: .restartPolicy)
    }
}

public struct ContainerPort: Sendable, Hashable, Decodable {
    public var name: String?
    public var containerPort: Int
    public var `protocol`: String

    public init(name: String? = nil, containerPort: Int, protocol: String = "TCP") {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
    }

    private enum CodingKeys: String, CodingKey { case name, containerPort, `protocol` }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        containerPort = try container.decode(Int.self, forKey: .containerPort)
        `protocol` = try container.decodeIfPresent(String.self, forKey: .protocol) ?? "TCP"
    }
}

public struct PodStatus: Sendable, Hashable, Decodable {
    public struct PodIP: Sendable, Hashable, Decodable {
        public var ip: String
        public init(ip: String) { self.ip = ip }
    }

    /// A container's runtime identity, matched to its spec by name.
    public struct ContainerStatus: Sendable, Hashable, Decodable {
        public var name: String
        /// Packed when it has the usual form (`CompactContainerID`).
        var compactContainerID: CompactContainerID?

        /// `<runtime>://<id>`, e.g. `containerd://3f…`; nil until the container was created.
        public var containerID: String? {
            get { compactContainerID?.string }
            set { compactContainerID = newValue.map(CompactContainerID.init) }
        }

        public init(name: String, containerID: String? = nil) {
            self.name = name
            compactContainerID = containerID.map(CompactContainerID.init)
        }

        init(name: String, compactContainerID: CompactContainerID?) {
            self.name = name
            self.compactContainerID = compactContainerID
        }

        private enum CodingKeys: String, CodingKey { case name, containerID }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(name: try container.decode(String.self, forKey: .name),
                      containerID: try container.decodeIfPresent(String.self, forKey: .containerID))
        }
    }

    /// `status.conditions[]`: only type and status are kept.
    private struct Condition: Decodable {
        var type: String
        var status: String?
    }

    public var phase: String?
    public var podIP: String?
    public var podIPs: [PodIP]
    public var hostIP: String?
    /// The `Ready` condition's status as written (`True`, `False`, `Unknown`); nil without one.
    public var ready: String?
    public var containerStatuses: [ContainerStatus]
    public var initContainerStatuses: [ContainerStatus]

    public init(
        phase: String? = nil, podIP: String? = nil, podIPs: [PodIP] = [], hostIP: String? = nil, ready: String? = nil,
        containerStatuses: [ContainerStatus] = [], initContainerStatuses: [ContainerStatus] = []
    ) {
        self.phase = phase
        self.podIP = podIP
        self.podIPs = podIPs
        self.hostIP = hostIP
        self.ready = ready
        self.containerStatuses = containerStatuses
        self.initContainerStatuses = initContainerStatuses
    }

    private enum CodingKeys: String, CodingKey { case phase, podIP, podIPs, hostIP, conditions, containerStatuses, initContainerStatuses }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        phase = decoder.interned(try container.decodeIfPresent(String.self, forKey: .phase))
        podIP = try container.decodeIfPresent(String.self, forKey: .podIP)
        podIPs = try container.decodeIfPresent([PodIP].self, forKey: .podIPs) ?? []
        hostIP = decoder.interned(try container.decodeIfPresent(String.self, forKey: .hostIP))
        let conditions = try container.decodeIfPresent([Condition].self, forKey: .conditions) ?? []
        ready = decoder.interned(conditions.first { $0.type == "Ready" }?.status)
        containerStatuses = try container.decodeIfPresent([ContainerStatus].self, forKey: .containerStatuses) ?? []
        initContainerStatuses = try container.decodeIfPresent([ContainerStatus].self, forKey: .initContainerStatuses) ?? []
    }

    /// The pod's primary address: `podIP`, else the first of `podIPs`.
    public var primaryIP: String? { podIP ?? podIPs.first?.ip }

    /// Pods in these phases no longer run and are never scraped.
    public var isTerminated: Bool { phase == "Succeeded" || phase == "Failed" }
}

/// A Pod template: what workloads stamp pods from.
public struct PodTemplateSpec: Sendable, Hashable, Decodable {
    public var metadata: ObjectMeta
    public var spec: PodSpec

    private enum CodingKeys: String, CodingKey { case metadata, spec }

    public init(metadata: ObjectMeta, spec: PodSpec) {
        self.metadata = metadata
        self.spec = spec
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta(name: "")
        spec = try container.decodeIfPresent(PodSpec.self, forKey: .spec) ?? PodSpec()
    }
}
