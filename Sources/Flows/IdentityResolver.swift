import DataTree
public import KubeModel

/// A workload as flows name it: its controller at the root of the owner chain
/// (ReplicaSet → Deployment, Job → CronJob), or the pod itself when it has no owner.
public struct WorkloadReference: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var kind: String
    public var name: String

    public init(namespace: String, kind: String, name: String) {
        self.namespace = namespace
        self.kind = kind
        self.name = name
    }

    public var description: String { "\(kind) \(namespace)/\(name)" }

    public static func < (lhs: WorkloadReference, rhs: WorkloadReference) -> Bool {
        (lhs.namespace, lhs.kind, lhs.name) < (rhs.namespace, rhs.kind, rhs.name)
    }
}

/// What an address was, at a time.
public enum Peer: Sendable, Hashable, Comparable {
    case workload(WorkloadReference)
    /// A Service's cluster IP (traffic seen before DNAT): resolved to its backends by the caller.
    case service(namespace: String, name: String)
    /// A node (by name) at one of its addresses (host-network pods share it).
    case node(String, IPAddress)
    /// The Kubernetes API server at one of its addresses.
    case apiServer(IPAddress)
    /// Anything else: outside the cluster, or not known to the snapshot.
    case external(IPAddress)
}

/// Resolves flow addresses to what they were when the flow happened.
///
/// Guarantees: a pod owns its IP only between its creation and its deletion, so a reused IP
/// never attributes traffic to the wrong workload (of pods whose lifetimes overlap a time, the
/// latest-created wins); host-network pods are not workloads here (their address is the node's);
/// owners are walked through the workloads the snapshot holds: ReplicaSet → Deployment,
/// Job → CronJob, else the first controller owner, else the pod itself.
public struct IdentityResolver: Sendable {
    struct Lease: Sendable {
        var start: Int64
        var end: Int64
        var workload: WorkloadReference
        /// Index of the pod in the `pods` the resolver was made from.
        var pod: Int
    }

    var pods: [IPAddress: [Lease]] = [:]
    var services: [IPAddress: (namespace: String, name: String)] = [:]
    var nodes: [IPAddress: String] = [:]
    var apiServer: Set<IPAddress>
    /// Top-level workloads (no owner) with their `spec.selector.matchLabels`, per namespace:
    /// a pod without ownerReferences (as in manifests on disk, where controllers have not set
    /// them) belongs to the one that selects it.
    var selecting: [String: [(workload: WorkloadReference, selector: [String: String])]] = [:]
    var owners: [String: [OwnerReference]] = [:]
    /// Kinds of the top-level workloads by "namespace/name", for sources that name a workload
    /// without its kind (Istio's `source_workload`).
    var kindsByName: [String: [String]] = [:]
    /// Top-level workloads with their pod template's labels, per namespace: the backends of a
    /// Service when the snapshot has no pods (manifests on disk).
    var templates: [String: [(workload: WorkloadReference, labels: [String: String])]] = [:]

    public init(pods: [Pod], workloads: [Workload], services: [Service], apiServerAddresses: [IPAddress] = []) {
        apiServer = Set(apiServerAddresses)
        var owners: [String: [OwnerReference]] = [:]
        defer { self.owners = owners }
        var selecting: [String: [(workload: WorkloadReference, selector: [String: String])]] = [:]
        defer { self.selecting = selecting }
        for workload in workloads {
            let namespace = workload.metadata.namespace ?? "default"
            owners["\(namespace)/\(workload.kind)/\(workload.metadata.name)"] = workload.metadata.ownerReferences
            if workload.metadata.ownerReferences.isEmpty {
                kindsByName["\(namespace)/\(workload.metadata.name)", default: []].append(workload.kind)
                templates[namespace, default: []].append((WorkloadReference(namespace: namespace, kind: workload.kind, name: workload.metadata.name), workload.template.metadata.labels))
            }
            guard workload.metadata.ownerReferences.isEmpty, let selector = workload.matchLabels else { continue }
            selecting[namespace, default: []].append((WorkloadReference(namespace: namespace, kind: workload.kind, name: workload.metadata.name), selector))
        }
        for (index, pod) in pods.enumerated() {
            let namespace = pod.metadata.namespace ?? "default"
            if let host = pod.status.hostIP.flatMap({ IPAddress($0) }), let node = pod.spec.nodeName { nodes[host] = node }
            guard !pod.spec.hostNetwork else { continue }
            let workload = Self.root(of: pod, namespace: namespace, owners: owners, selecting: selecting[namespace] ?? [])
            let start = pod.metadata.creationTimestamp.flatMap(Timestamp.parse) ?? .min
            let end = pod.metadata.deletionTimestamp.flatMap(Timestamp.parse) ?? .max
            let addresses = Set(([pod.status.podIP] + pod.status.podIPs.map(\.ip)).compactMap { $0.flatMap { IPAddress($0) } })
            for address in addresses { self.pods[address, default: []].append(Lease(start: start, end: end, workload: workload, pod: index)) }
        }
        for service in services {
            guard let clusterIP = service.spec.clusterIP, let address = IPAddress(clusterIP) else { continue }
            self.services[address] = (service.metadata.namespace ?? "default", service.metadata.name)
        }
    }

    static func root(of pod: Pod, namespace: String, owners: [String: [OwnerReference]],
                     selecting: [(workload: WorkloadReference, selector: [String: String])]) -> WorkloadReference {
        func controller(_ references: [OwnerReference]) -> OwnerReference? { references.first { $0.controller == true } ?? references.first }
        guard var owner = controller(pod.metadata.ownerReferences) else {
            let candidates = selecting.filter { candidate in candidate.selector.allSatisfy { pod.metadata.labels[$0.key] == $0.value } }
            return candidates.map(\.workload).min() ?? WorkloadReference(namespace: namespace, kind: "Pod", name: pod.metadata.name)
        }
        // At most a few hops: ReplicaSet → Deployment, Job → CronJob (and guard against cycles).
        for _ in 0..<4 {
            guard ["ReplicaSet", "Job"].contains(owner.kind), let parents = owners["\(namespace)/\(owner.kind)/\(owner.name)"], let parent = controller(parents) else { break }
            owner = parent
        }
        return WorkloadReference(namespace: namespace, kind: owner.kind, name: owner.name)
    }

    /// The workload a pod belongs to (the root of its owner chain).
    public func workload(of pod: Pod) -> WorkloadReference {
        Self.root(of: pod, namespace: pod.metadata.namespace ?? "default", owners: owners, selecting: selecting[pod.metadata.namespace ?? "default"] ?? [])
    }

    /// The top-level workload called `name` in `namespace`: a Deployment if there is one, else
    /// the first kind in name order; a Deployment when the snapshot has none (Istio names
    /// Deployments by far most often, and a guess keeps the edge visible in the graph).
    public func workload(named name: String, namespace: String) -> WorkloadReference {
        let kinds = kindsByName["\(namespace)/\(name)"] ?? []
        let kind = kinds.contains("Deployment") ? "Deployment" : kinds.min() ?? "Deployment"
        return WorkloadReference(namespace: namespace, kind: kind, name: name)
    }

    /// The top-level workloads in `namespace` whose pod template `selector` matches.
    public func workloads(selectedBy selector: [String: String], in namespace: String) -> [WorkloadReference] {
        (templates[namespace] ?? []).filter { candidate in selector.allSatisfy { candidate.labels[$0.key] == $0.value } }.map(\.workload)
    }

    /// What an end was: what its source reported when that names a workload, Service, node or
    /// the API server; otherwise what the snapshot says `address` was at `time`.
    public func resolve(_ address: IPAddress, reported: ReportedIdentity?, at time: Int64) -> Peer {
        switch reported {
        case .workload(let workload, _)?:
            return .workload(workload.kind.isEmpty ? self.workload(named: workload.name, namespace: workload.namespace) : workload)
        case .service(let namespace, let name)?: return .service(namespace: namespace, name: name)
        case .apiServer?: return .apiServer(address)
        case .node?:
            if case .node(let name, _) = resolve(address, at: time) { return .node(name, address) }
            return .node("", address)
        case .world?, nil: return resolve(address, at: time)
        }
    }

    /// What `address` was at `time` (epoch milliseconds).
    public func resolve(_ address: IPAddress, at time: Int64) -> Peer {
        if apiServer.contains(address) { return .apiServer(address) }
        if let lease = lease(address, at: time) { return .workload(lease.workload) }
        if let service = services[address] { return .service(namespace: service.namespace, name: service.name) }
        if let node = nodes[address] { return .node(node, address) }
        return .external(address)
    }

    /// The index, in the pods the resolver was made from, of the pod that held `address` at
    /// `time`; nil when no pod did (or the API server owns the address).
    public func podIndex(at address: IPAddress, time: Int64) -> Int? {
        apiServer.contains(address) ? nil : lease(address, at: time)?.pod
    }

    func lease(_ address: IPAddress, at time: Int64) -> Lease? {
        guard let leases = pods[address] else { return nil }
        var newest: Lease?
        for lease in leases where lease.start <= time && time < lease.end {
            if let current = newest, (lease.start, lease.workload) <= (current.start, current.workload) { continue }
            newest = lease
        }
        return newest
    }
}
