public import DataTree
public import KubeModel
import NetWatchAPI

/// Injecting the per-pod network exporter sidecar: the pure decision and mutation shared by the
/// admission webhook and offline injection (issue 7; this is its core).
///
/// Order of checks (first match decides): hostNetwork pods are skipped; kube-system,
/// kube-public, kube-node-lease and the operator's own namespace are skipped; the pod annotation
/// `netwatch.dev/inject: "false"` skips, `"true"` opts in past the namespace selector; then each
/// injector (in name order) by namespace selector, then pod selector.
///
/// Guarantees: idempotent — an injected pod carries `netwatch.dev/injected: <injector>/<hash>`;
/// injecting again with the same injector changes nothing, with a changed injector replaces the
/// old sidecar; the patch is `JSONPatch.diff(original, mutated)`.
public enum SidecarInjection {
    public static let injectAnnotation = "netwatch.dev/inject"
    public static let injectedAnnotation = "netwatch.dev/injected"
    public static let protectedNamespaces: Set<String> = ["kube-system", "kube-public", "kube-node-lease"]

    public struct Injector: Sendable, Hashable {
        public enum NativeSidecar: String, Sendable, Hashable { case auto, always, never }

        public var name: String
        public var namespaceSelector: LabelSelector?
        public var podSelector: LabelSelector?
        public var nativeSidecar: NativeSidecar
        public var image: String

        public init(name: String, namespaceSelector: LabelSelector? = nil, podSelector: LabelSelector? = LabelSelector(),
                    nativeSidecar: NativeSidecar = .auto, image: String = "quay.io/prometheus/node-exporter:v1.8.2") {
            self.name = name
            self.namespaceSelector = namespaceSelector
            self.podSelector = podSelector
            self.nativeSidecar = nativeSidecar
            self.image = image
        }
    }

    /// What the cluster supports: native sidecars (init containers with restartPolicy Always)
    /// are on by default from Kubernetes 1.29.
    public struct Capabilities: Sendable, Hashable {
        public var nativeSidecars: Bool
        public init(nativeSidecars: Bool) { self.nativeSidecars = nativeSidecars }
    }

    public enum Outcome: Sendable, Equatable {
        case skipped(String)
        case unchanged
        case injected(pod: Node, patch: [Node], injector: String)
    }

    public static func inject(
        pod: Node, namespace: String, namespaceLabels: [String: String], injectors: [Injector],
        capabilities: Capabilities, operatorNamespace: String
    ) -> Outcome {
        if pod["spec"]?["hostNetwork"] == .bool(true) {
            return .skipped("hostNetwork pods share the node's network namespace; node_exporter on the node already covers it")
        }
        if protectedNamespaces.contains(namespace) || namespace == operatorNamespace {
            return .skipped("namespace \(namespace) is never injected")
        }
        let annotations = pod["metadata"]?["annotations"]
        let optIn = annotations?[injectAnnotation]?.string
        if optIn == "false" { return .skipped("the pod says \(injectAnnotation): \"false\"") }
        let labels: [String: String] = {
            guard case .mapping(let map)? = pod["metadata"]?["labels"] else { return [:] }
            var out: [String: String] = [:]
            for entry in map { if let value = entry.value.string { out[entry.key] = value } }
            return out
        }()
        let candidates = injectors.sorted { $0.name < $1.name }.filter { injector in
            let namespaceMatches = optIn == "true" || (injector.namespaceSelector?.matches(namespaceLabels) ?? false)
            return namespaceMatches && (injector.podSelector?.matches(labels) ?? false)
        }
        guard let injector = candidates.first else { return .skipped("no injector selects this pod") }
        let native = injector.nativeSidecar == .always || (injector.nativeSidecar == .auto && capabilities.nativeSidecars)
        let sidecar = container(for: injector, native: native)
        var hash = FNV1a64Hash()
        hash.add(JSONEmitter(style: .compact).emit(sidecar))
        let marker = "\(injector.name)/\(hash.hex)"
        if annotations?[injectedAnnotation]?.string == marker { return .unchanged }

        guard case .mapping(var root) = pod else { return .skipped("the object is not a mapping") }
        var metadata = root["metadata"]?.mapping ?? Mapping()
        var annotationMap = metadata["annotations"]?.mapping ?? Mapping()
        annotationMap[injectedAnnotation] = .string(marker)
        metadata["annotations"] = .mapping(annotationMap)
        root["metadata"] = .mapping(metadata)
        var spec = root["spec"]?.mapping ?? Mapping()
        // An earlier injection (another injector or version) is replaced, not duplicated.
        for key in ["containers", "initContainers"] {
            guard let list = spec[key]?.sequence else { continue }
            let kept = list.filter { $0["name"]?.string != NetworkExporterSidecar.containerName }
            if kept.count != list.count { spec[key] = kept.isEmpty && key == "initContainers" ? nil : .sequence(kept) }
        }
        let key = native ? "initContainers" : "containers"
        spec[key] = .sequence((spec[key]?.sequence ?? []) + [sidecar])
        root["spec"] = .mapping(spec)
        let mutated = Node.mapping(root)
        return .injected(pod: mutated, patch: JSONPatch.diff(from: pod, to: mutated), injector: injector.name)
    }

    /// node_exporter with only the collectors that read the pod's network namespace, locked down.
    static func container(for injector: Injector, native: Bool) -> Node {
        var container = Mapping()
        container["name"] = .string(NetworkExporterSidecar.containerName)
        container["image"] = .string(injector.image)
        container["args"] = .strings([
            "--web.listen-address=:\(NetworkExporterSidecar.port)", "--collector.disable-defaults",
            "--collector.netdev", "--collector.netstat", "--collector.sockstat", "--collector.conntrack",
        ])
        container["ports"] = [["name": .string(NetworkExporterSidecar.portName), "containerPort": .int(NetworkExporterSidecar.port), "protocol": "TCP"]]
        container["resources"] = ["requests": ["cpu": "10m", "memory": "24Mi"], "limits": ["cpu": "100m", "memory": "64Mi"]]
        container["securityContext"] = [
            "allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]], "readOnlyRootFilesystem": true,
            "runAsNonRoot": true, "runAsUser": 65534,
        ]
        if native { container["restartPolicy"] = "Always" }
        return .mapping(container)
    }
}
