import DataTree
public import KubeModel
import NetWatchAPI
import Synchronization

/// What Prometheus's Kubernetes discovery (role `pod`, `discovery/kubernetes/pod.go`
/// `buildPod`) produces for one pod: group labels shared by all its targets, and one target per
/// container port, or per port-less container, of every container and then every init
/// container.
///
/// Labels with empty values (an empty pod label, a container not yet started) are left out:
/// Prometheus drops them before relabelling (`labels.Builder.Reset` deletes empty values), so
/// they can never matter, and the files stay smaller. A pod without `status.podIP` has no
/// targets (Prometheus reads `podIP`, never `podIPs`).
public struct PodDiscoveryLabels: Sendable {
    public struct Target: Sendable {
        /// `podIP:port` (IPv6 bracketed), or the bare `podIP` for a container without ports.
        public var address: String
        /// The target-level `__meta_kubernetes_pod_container_*` labels, in a fixed order.
        public var labels: [(String, String)]
        /// The container's port, when it declares ports.
        public var port: ContainerPort?
    }

    /// Without duplicates, in a fixed order (pod fields, then labels and annotations by key);
    /// when two keys sanitise to the same name, the first in sorted order wins (Prometheus's
    /// choice there depends on Go's map order).
    public var groupLabels: [(String, String)]
    public var targets: [Target]

    public init(_ pod: Pod) {
        guard let ip = pod.status.podIP, !ip.isEmpty else {
            groupLabels = []
            targets = []
            return
        }
        groupLabels = [("__meta_kubernetes_namespace", pod.metadata.namespace ?? "default")] + Self.podLabels(pod)

        let host = ip.contains(":") ? "[\(ip)]" : ip
        var targets: [Target] = []
        let all = pod.spec.containers.map { ($0, false) } + pod.spec.initContainers.map { ($0, true) }
        for (container, isInit) in all {
            let statuses = isInit ? pod.status.initContainerStatuses : pod.status.containerStatuses
            let common: [(String, String)] = [
                ("__meta_kubernetes_pod_container_id", statuses.first(where: { $0.name == container.name })?.containerID ?? ""),
                ("__meta_kubernetes_pod_container_image", container.image ?? ""),
                ("__meta_kubernetes_pod_container_init", isInit ? "true" : "false"),
                ("__meta_kubernetes_pod_container_name", container.name),
            ].filter { !$0.1.isEmpty }
            guard !container.ports.isEmpty else {
                targets.append(Target(address: ip, labels: common, port: nil))
                continue
            }
            for port in container.ports {
                var labels = common
                if let name = port.name, !name.isEmpty { labels.append(("__meta_kubernetes_pod_container_port_name", name)) }
                labels.append(("__meta_kubernetes_pod_container_port_number", String(port.containerPort)))
                labels.append(("__meta_kubernetes_pod_container_port_protocol", port.protocol))
                targets.append(Target(address: "\(host):\(port.containerPort)", labels: labels, port: port))
            }
        }
        self.targets = targets
    }

    /// Prometheus's `podLabels`: the pod's own labels, which the endpoint roles attach to their
    /// targets too (without the namespace, which is a group label there). Unsorted.
    static func podLabels(_ pod: Pod) -> [(String, String)] {
        var labels: [(String, String)] = []
        func add(_ name: String, _ value: String?) {
            if let value, !value.isEmpty { labels.append((name, value)) }
        }
        add("__meta_kubernetes_pod_name", pod.metadata.name)
        add("__meta_kubernetes_pod_ip", pod.status.podIP)
        add("__meta_kubernetes_pod_ready", pod.status.ready?.lowercased() ?? "unknown")
        add("__meta_kubernetes_pod_phase", pod.status.phase)
        add("__meta_kubernetes_pod_node_name", pod.spec.nodeName)
        add("__meta_kubernetes_pod_host_ip", pod.status.hostIP)
        add("__meta_kubernetes_pod_uid", pod.metadata.uid)
        if let controller = pod.metadata.ownerReferences.first(where: { $0.controller == true }) {
            add("__meta_kubernetes_pod_controller_kind", controller.kind)
            add("__meta_kubernetes_pod_controller_name", controller.name)
        }
        labels += objectLabels(pod.metadata, role: "pod")
        return labels
    }

    /// `addObjectAnnotationsAndLabels`: `label_`/`labelpresent_` and `annotation_`/
    /// `annotationpresent_` per key; when two keys sanitise alike, the first in sorted order wins.
    static func objectLabels(_ metadata: ObjectMeta, role: String) -> [(String, String)] {
        var labels: [(String, String)] = []
        labels.reserveCapacity(2 * (metadata.labels.count + metadata.annotations.count))
        for (map, prefix) in [(metadata.labels, "label"), (metadata.annotations, "annotation")] {
            var seen: Set<String> = []
            for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                let names = MetaLabelNames.names(role: role, prefix: prefix, key: key)
                guard seen.insert(names.sanitized).inserted else { continue }
                if !value.isEmpty { labels.append((names.value, value)) }
                labels.append((names.present, "true"))
            }
        }
        return labels
    }

    /// Labels as the members of a JSON object, without braces: `"name":"value",…`.
    static func encode(_ labels: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, (name, value)) in labels.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONEmitter.writeString(name, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONEmitter.writeString(value, into: &out)
        }
        return out
    }

    /// One file_sd target group: `{"targets":[address],"labels":{group…,target…}}`. The two sets
    /// never share a name (pod-level and container-level labels); the group's members are
    /// encoded once per pod.
    static func writeGroup(address: String, group: [UInt8], target: [(String, String)], into out: inout [UInt8]) {
        out.append(contentsOf: #"{"targets":["#.utf8)
        JSONEmitter.writeString(address, into: &out)
        out.append(contentsOf: #"],"labels":{"#.utf8)
        out.append(contentsOf: group)
        for (name, value) in target {
            if !group.isEmpty || out.last != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
            JSONEmitter.writeString(name, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONEmitter.writeString(value, into: &out)
        }
        out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "}")])
    }
}

/// The `__meta_kubernetes_<role>_<prefix>_<name>` and `…<prefix>present_<name>` label names
/// of an object's label or annotation key, made once per key: the same few keys repeat on
/// every object, and sanitising and joining them for each was a tenth of a full render.
/// Bounded: past `limit` keys of one role and prefix, that table starts again.
enum MetaLabelNames {
    struct Names: Sendable {
        let sanitized: String
        let value: String
        let present: String
    }

    private struct Scope: Hashable {
        let role: String
        let prefix: String
    }

    static let limit = 16_384
    private static let tables = Mutex<[Scope: [String: Names]]>([:])

    static func names(role: String, prefix: String, key: String) -> Names {
        let scope = Scope(role: role, prefix: prefix)
        if let held = tables.withLock({ $0[scope]?[key] }) { return held }
        let sanitized = LabelSanitizer.sanitize(key)
        let names = Names(sanitized: sanitized, value: "__meta_kubernetes_\(role)_\(prefix)_\(sanitized)",
                          present: "__meta_kubernetes_\(role)_\(prefix)present_\(sanitized)")
        tables.withLock { tables in
            if tables[scope, default: [:]].count >= limit { tables[scope] = [:] }
            tables[scope, default: [:]][key] = names
        }
        return names
    }
}
