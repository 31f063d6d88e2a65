public import KubeModel

/// What Prometheus's Kubernetes discovery (role `endpointslice`, `discovery/kubernetes/
/// endpointslice.go` `buildEndpointSlice`, 3.x) produces for one EndpointSlice: group labels
/// (namespace, the slice's and its Service's metadata) and one target per endpoint × port ×
/// address, carrying the endpoint's and, for a Pod target, the pod's labels; then one more
/// target per container port of those pods that no slice port covered.
///
/// Empty values are left out, as for `PodDiscoveryLabels`. Not modelled: node metadata
/// (`attach_metadata.node`) and the dual-stack deduplication of Prometheus 3.11+.
public struct EndpointSliceDiscoveryLabels: Sendable {
    public struct Target: Sendable {
        public var address: String
        /// Sorted by name.
        public var labels: [(String, String)]
    }

    /// Sorted by name.
    public var groupLabels: [(String, String)]
    public var targets: [Target]
    /// The slice's Service, when it exists.
    public var service: Service?

    /// `service` is the Service named by the slice's `kubernetes.io/service-name` label (nil if
    /// absent); `pod` looks pods up by namespace and name, as Prometheus's pod informer does.
    public init(_ slice: EndpointSlice, service: Service?, pod: (String, String) -> Pod?) {
        let namespace = slice.metadata.namespace ?? "default"
        var group: [(String, String)] = [
            ("__meta_kubernetes_namespace", namespace),
            ("__meta_kubernetes_endpointslice_address_type", slice.addressType),
            ("__meta_kubernetes_endpointslice_name", slice.metadata.name),
        ]
        group += PodDiscoveryLabels.objectLabels(slice.metadata, role: "endpointslice")
        if let service {
            group.append(("__meta_kubernetes_service_name", service.metadata.name))
            group += PodDiscoveryLabels.objectLabels(service.metadata, role: "service")
        }
        groupLabels = group.filter { !$0.1.isEmpty }.sorted { $0.0 < $1.0 }
        self.service = service

        var targets: [Target] = []
        // Pods reached through a Pod targetRef, in first-seen order, with the slice ports seen.
        var seenPods: [(pod: Pod, ports: [Int?])] = []
        for endpoint in slice.endpoints {
            for port in slice.ports {
                for address in endpoint.addresses {
                    var labels: [(String, String)] = []
                    func add(_ name: String, _ value: String?) {
                        if let value, !value.isEmpty { labels.append((name, value)) }
                    }
                    let prefix = "__meta_kubernetes_endpointslice_"
                    add(prefix + "port_name", port.name)
                    add(prefix + "port_protocol", port.protocol)
                    add(prefix + "port", port.port.map(String.init))
                    add(prefix + "port_app_protocol", port.appProtocol)
                    add(prefix + "endpoint_conditions_ready", endpoint.conditions?.ready.map { String($0) })
                    add(prefix + "endpoint_conditions_serving", endpoint.conditions?.serving.map { String($0) })
                    add(prefix + "endpoint_conditions_terminating", endpoint.conditions?.terminating.map { String($0) })
                    add(prefix + "endpoint_hostname", endpoint.hostname)
                    if let reference = endpoint.targetRef {
                        add(prefix + "address_target_kind", reference.kind)
                        add(prefix + "address_target_name", reference.name)
                    }
                    add(prefix + "endpoint_node_name", endpoint.nodeName)
                    add(prefix + "endpoint_zone", endpoint.zone)
                    if let reference = endpoint.targetRef, reference.kind == "Pod", let name = reference.name,
                       let found = pod(reference.namespace ?? "", name) {
                        let key = (found.metadata.namespace ?? "default", found.metadata.name)
                        if let index = seenPods.firstIndex(where: { ($0.pod.metadata.namespace ?? "default", $0.pod.metadata.name) == key }) {
                            seenPods[index].ports.append(port.port)
                        } else {
                            seenPods.append((found, [port.port]))
                        }
                        labels = Self.merged(labels, PodDiscoveryLabels.podLabels(found))
                        // Every container (then init container) port equal to the slice port
                        // writes the container labels; the last one written stays, because
                        // Prometheus's loop only breaks out of one container's ports.
                        if let number = port.port {
                            var container: [(String, String)] = []
                            for (candidate, isInit) in Self.containers(of: found) {
                                guard let match = candidate.ports.first(where: { $0.containerPort == number }) else { continue }
                                container = Self.containerLabels(candidate, port: match, isInit: isInit)
                            }
                            labels = Self.merged(labels, container)
                        }
                    }
                    let host = address.contains(":") ? "[\(address)]" : address
                    targets.append(Target(address: port.port.map { "\(host):\($0)" } ?? address, labels: labels.sorted { $0.0 < $1.0 }))
                }
            }
        }
        for (found, ports) in seenPods {
            guard let ip = found.status.podIP, !ip.isEmpty else { continue }
            let host = ip.contains(":") ? "[\(ip)]" : ip
            for (container, isInit) in Self.containers(of: found) {
                for containerPort in container.ports where !ports.contains(where: { $0 == containerPort.containerPort }) {
                    let labels = Self.merged(Self.containerLabels(container, port: containerPort, isInit: isInit), PodDiscoveryLabels.podLabels(found))
                    targets.append(Target(address: "\(host):\(containerPort.containerPort)", labels: labels.sorted { $0.0 < $1.0 }))
                }
            }
        }
        self.targets = targets
    }

    static func containers(of pod: Pod) -> [(Container, Bool)] {
        pod.spec.containers.map { ($0, false) } + pod.spec.initContainers.map { ($0, true) }
    }

    static func containerLabels(_ container: Container, port: ContainerPort, isInit: Bool) -> [(String, String)] {
        [
            ("__meta_kubernetes_pod_container_name", container.name),
            ("__meta_kubernetes_pod_container_image", container.image ?? ""),
            ("__meta_kubernetes_pod_container_port_name", port.name ?? ""),
            ("__meta_kubernetes_pod_container_port_number", String(port.containerPort)),
            ("__meta_kubernetes_pod_container_port_protocol", port.protocol),
            ("__meta_kubernetes_pod_container_init", isInit ? "true" : "false"),
        ].filter { !$0.1.isEmpty }
    }

    /// `LabelSet.Merge`: the second set's labels win.
    static func merged(_ base: [(String, String)], _ other: [(String, String)]) -> [(String, String)] {
        let names = Set(other.map(\.0))
        return base.filter { !names.contains($0.0) } + other
    }
}
