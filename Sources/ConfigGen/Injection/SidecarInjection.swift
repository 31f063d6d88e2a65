public import DataTree
public import KubeModel
public import NetWatchAPI

/// Injecting sidecars into a pod (or a workload's pod template): the pure decision and mutation
/// shared by the admission webhook, `netwatch inject` and the kustomize patches of `render`.
///
/// Order of checks (first match decides): hostNetwork pods are skipped; kube-system,
/// kube-public, kube-node-lease and the operator's own namespace are skipped; the pod annotation
/// `netwatch.dev/inject: "false"` skips, `"true"` opts in past the namespace selector; then each
/// injector (in name order) by namespace selector, then pod selector. A pod that would never
/// finish with a regular sidecar (restartPolicy Never or OnFailure, as every Job's) is skipped
/// where the cluster has no native sidecars.
///
/// Guarantees: idempotent — an injected pod carries `netwatch.dev/injected: <injector>/<hash>`
/// and `netwatch.dev/injected-status` naming what was added; injecting again with the same
/// injector changes nothing, with a changed injector removes what the old one added before
/// adding the new; the patch is `JSONPatch.diff(original, mutated)`.
public enum SidecarInjection {
    public static let injectAnnotation = "netwatch.dev/inject"
    public static let injectedAnnotation = "netwatch.dev/injected"
    public static let statusAnnotation = "netwatch.dev/injected-status"
    public static let protectedNamespaces: Set<String> = ["kube-system", "kube-public", "kube-node-lease"]

    /// A SidecarInjector as injection uses it.
    public struct Injector: Sendable, Hashable {
        public typealias NativeSidecar = SidecarInjectorSpec.NativeSidecar

        public var name: String
        /// nil: only pods annotated `netwatch.dev/inject: "true"`.
        public var namespaceSelector: LabelSelector?
        /// nil or empty: every pod of the selected namespaces.
        public var podSelector: LabelSelector?
        public var nativeSidecar: NativeSidecar
        /// The built-in network exporter's image; nil: no built-in sidecar.
        public var exporterImage: String?
        public var containers: [Node]
        public var initContainers: [Node]
        public var volumes: [Node]
        public var failurePolicy: SidecarInjectorSpec.FailurePolicy

        public init(name: String, namespaceSelector: LabelSelector? = nil, podSelector: LabelSelector? = nil,
                    nativeSidecar: NativeSidecar = .auto, exporterImage: String? = SidecarInjectorSpec.defaultImage,
                    containers: [Node] = [], initContainers: [Node] = [], volumes: [Node] = [],
                    failurePolicy: SidecarInjectorSpec.FailurePolicy = .ignore) {
            self.name = name
            self.namespaceSelector = namespaceSelector
            self.podSelector = podSelector
            self.nativeSidecar = nativeSidecar
            self.exporterImage = exporterImage
            self.containers = containers
            self.initContainers = initContainers
            self.volumes = volumes
            self.failurePolicy = failurePolicy
        }

        public init(_ resource: SidecarInjector) {
            let spec = resource.spec
            self.init(name: resource.name, namespaceSelector: spec.namespaceSelector, podSelector: spec.podSelector,
                      nativeSidecar: spec.nativeSidecar,
                      exporterImage: spec.sidecar == .networkExporter ? spec.image ?? SidecarInjectorSpec.defaultImage : nil,
                      containers: spec.containers, initContainers: spec.initContainers, volumes: spec.volumes,
                      failurePolicy: spec.failurePolicy ?? .ignore)
        }
    }

    /// What the cluster supports: native sidecars (init containers with restartPolicy Always)
    /// are on by default from Kubernetes 1.29.
    public struct Capabilities: Sendable, Hashable {
        public var nativeSidecars: Bool
        public init(nativeSidecars: Bool) { self.nativeSidecars = nativeSidecars }

        /// From a Kubernetes version such as `1.31` or `v1.28.4`; nil when it cannot be read.
        public init?(kubernetesVersion: String) {
            let parts = kubernetesVersion.drop { $0 == "v" }.split(separator: ".")
            guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1].prefix { $0.isNumber }) else { return nil }
            nativeSidecars = major > 1 || minor >= 29
        }
    }

    public enum Outcome: Sendable, Equatable {
        case skipped(String)
        case unchanged
        case injected(pod: Node, patch: [Node], injector: String)
    }

    /// Injects into `pod`, a Pod or a pod template (anything with `metadata` and `spec`).
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
        let labels = pod["metadata"]?["labels"]?.stringValues ?? [:]
        let candidates = injectors.sorted { $0.name < $1.name }.filter { injector in
            let namespaceMatches = optIn == "true" || (injector.namespaceSelector?.matches(namespaceLabels) ?? false)
            return namespaceMatches && (injector.podSelector?.matches(labels) ?? true)
        }
        guard let injector = candidates.first else { return .skipped("no injector selects this pod") }
        let native = injector.nativeSidecar == .always || (injector.nativeSidecar == .auto && capabilities.nativeSidecars)
        if !native, let policy = pod["spec"]?["restartPolicy"]?.string, policy != "Always" {
            return .skipped("restartPolicy \(policy): a regular sidecar would keep the pod from completing, and injector \(injector.name) may not use native sidecars here")
        }
        let added = Added(injector: injector, native: native)
        let marker = "\(injector.name)/\(added.hash)"
        if annotations?[injectedAnnotation]?.string == marker { return .unchanged }

        guard case .mapping(var root) = pod else { return .skipped("the object is not a mapping") }
        var metadata = root["metadata"]?.mapping ?? Mapping()
        var annotationMap = metadata["annotations"]?.mapping ?? Mapping()
        let previous = Status(annotationMap[statusAnnotation]?.string)
        annotationMap[injectedAnnotation] = .string(marker)
        annotationMap[statusAnnotation] = .string(added.status.annotation)
        metadata["annotations"] = .mapping(annotationMap)
        root["metadata"] = .mapping(metadata)

        var spec = root["spec"]?.mapping ?? Mapping()
        // What an earlier injection added (another injector or version) is removed first.
        func kept(_ key: String, _ names: Set<String>) -> [Node] {
            (spec[key]?.sequence ?? []).filter { !names.contains($0["name"]?.string ?? "") }
        }
        let userInit = kept("initContainers", previous.initContainers.union([NetworkExporterSidecar.containerName]))
        let userContainers = kept("containers", previous.containers.union([NetworkExporterSidecar.containerName]))
        let userVolumes = kept("volumes", previous.volumes)
        // Istio's order: injected init containers, then native sidecars, then the pod's own init
        // containers (which thus run with the sidecars up); regular sidecars go last so that
        // `kubectl exec` and `logs` still default to the application.
        let initContainers = added.initContainers + (native ? added.sidecars : []) + userInit
        let containers = userContainers + (native ? [] : added.sidecars)
        let volumes = userVolumes + added.volumes
        spec["initContainers"] = initContainers.isEmpty ? nil : .sequence(initContainers)
        spec["containers"] = .sequence(containers)
        spec["volumes"] = volumes.isEmpty ? nil : .sequence(volumes)
        root["spec"] = .mapping(spec)
        let mutated = Node.mapping(root)
        return .injected(pod: mutated, patch: JSONPatch.diff(from: pod, to: mutated), injector: injector.name)
    }

    /// Everything one injector adds to a pod.
    struct Added {
        var initContainers: [Node]
        var sidecars: [Node]
        var volumes: [Node]
        /// Sidecars are native (init containers with restartPolicy Always), not regular containers.
        var native: Bool

        init(injector: Injector, native: Bool) {
            self.native = native
            initContainers = injector.initContainers
            var sidecars = injector.exporterImage.map { [SidecarInjection.exporter(image: $0)] } ?? []
            sidecars += injector.containers
            if native {
                sidecars = sidecars.map { container in
                    guard case .mapping(var map) = container else { return container }
                    map["restartPolicy"] = "Always"
                    return .mapping(map)
                }
            }
            self.sidecars = sidecars
            volumes = injector.volumes
        }

        var hash: String {
            var hash = FNV1a64()
            hash.add(JSONEmitter(style: .compact).emit(["initContainers": .sequence(initContainers), "sidecars": .sequence(sidecars), "volumes": .sequence(volumes)]))
            return hash.hex
        }

        var status: Status {
            func names(_ list: [Node]) -> Set<String> { Set(list.compactMap { $0["name"]?.string }) }
            return Status(initContainers: names(initContainers).union(native ? names(sidecars) : []),
                          containers: native ? [] : names(sidecars), volumes: names(volumes))
        }
    }

    /// The names an injection added, kept in `netwatch.dev/injected-status` (Istio keeps the
    /// same in `sidecar.istio.io/status`) so a later injection can remove exactly them.
    struct Status: Equatable {
        var initContainers: Set<String> = []
        var containers: Set<String> = []
        var volumes: Set<String> = []

        init(initContainers: Set<String>, containers: Set<String>, volumes: Set<String>) {
            self.initContainers = initContainers
            self.containers = containers
            self.volumes = volumes
        }

        /// Reads the annotation; anything unreadable counts as nothing added.
        init(_ annotation: String?) {
            guard let annotation else { return }
            for part in annotation.split(separator: ";") {
                let pieces = part.split(separator: "=", maxSplits: 1)
                guard pieces.count == 2 else { continue }
                let names = Set(pieces[1].split(separator: ",").map(String.init))
                switch pieces[0] {
                case "initContainers": initContainers = names
                case "containers": containers = names
                case "volumes": volumes = names
                default: continue
                }
            }
        }

        var annotation: String {
            [("initContainers", initContainers), ("containers", containers), ("volumes", volumes)]
                .filter { !$0.1.isEmpty }
                .map { "\($0.0)=\($0.1.sorted().joined(separator: ","))" }
                .joined(separator: ";")
        }
    }

    /// node_exporter with only the collectors that read the pod's network namespace, locked down.
    static func exporter(image: String) -> Node {
        var container = Mapping()
        container["name"] = .string(NetworkExporterSidecar.containerName)
        container["image"] = .string(image)
        container["args"] = .strings(NetworkExporterSidecar.arguments)
        container["ports"] = [["name": .string(NetworkExporterSidecar.portName), "containerPort": .int(NetworkExporterSidecar.port), "protocol": "TCP"]]
        container["resources"] = ["requests": ["cpu": "10m", "memory": "24Mi"], "limits": ["cpu": "100m", "memory": "64Mi"]]
        container["securityContext"] = [
            "allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]], "readOnlyRootFilesystem": true,
            "runAsNonRoot": true, "runAsUser": 65534,
        ]
        return .mapping(container)
    }
}
