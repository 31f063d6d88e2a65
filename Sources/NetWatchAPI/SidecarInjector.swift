public import DataTree
public import KubeModel

/// `SidecarInjector` (netwatch.dev/v1alpha1, cluster-scoped): which pods get which sidecar.
///
/// Decoding checks structure and the template (every container has a DNS-label name and an
/// image, names are unique and clear of the built-in sidecar's, volumes are named); an invalid
/// injector is reported and injects nothing, the others still do.
public struct SidecarInjectorSpec: Sendable, Hashable, Decodable {
    public enum BuiltInSidecar: String, Sendable, Hashable, Decodable, CaseIterable {
        /// node_exporter with only netdev, netstat, sockstat and conntrack, in the pod's network namespace.
        case networkExporter
        /// Only the custom containers.
        case none
    }

    public enum NativeSidecar: String, Sendable, Hashable, Decodable, CaseIterable { case auto, always, never }
    public enum FailurePolicy: String, Sendable, Hashable, Decodable, CaseIterable {
        case ignore = "Ignore"
        case fail = "Fail"
    }

    /// Namespaces whose pods are injected; absent: only pods annotated `netwatch.dev/inject: "true"`.
    public var namespaceSelector: LabelSelector?
    /// Pods of those namespaces that are injected; absent or `{}`: all of them.
    public var podSelector: LabelSelector?
    public var sidecar: BuiltInSidecar
    /// The built-in exporter's image.
    public var image: String?
    /// Custom sidecar containers (run for the pod's lifetime, native where supported).
    public var containers: [Node]
    /// Custom init containers, run before the pod's own.
    public var initContainers: [Node]
    public var volumes: [Node]
    public var nativeSidecar: NativeSidecar
    /// nil: the webhook's default (`netwatch operator --webhook-failure-policy`, Ignore unless set).
    public var failurePolicy: FailurePolicy?

    public static let defaultImage = "quay.io/prometheus/node-exporter:v1.8.2"

    public init(namespaceSelector: LabelSelector? = nil, podSelector: LabelSelector? = nil, sidecar: BuiltInSidecar = .networkExporter,
                image: String? = nil, containers: [Node] = [], initContainers: [Node] = [], volumes: [Node] = [],
                nativeSidecar: NativeSidecar = .auto, failurePolicy: FailurePolicy? = nil) {
        self.namespaceSelector = namespaceSelector
        self.podSelector = podSelector
        self.sidecar = sidecar
        self.image = image
        self.containers = containers
        self.initContainers = initContainers
        self.volumes = volumes
        self.nativeSidecar = nativeSidecar
        self.failurePolicy = failurePolicy
    }

    private enum CodingKeys: String, CodingKey {
        case namespaceSelector, podSelector, sidecar, image, containers, initContainers, volumes, nativeSidecar, failurePolicy
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        namespaceSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .namespaceSelector)
        podSelector = try container.decodeIfPresent(LabelSelector.self, forKey: .podSelector)
        sidecar = try container.decodeIfPresent(BuiltInSidecar.self, forKey: .sidecar) ?? .networkExporter
        image = try container.decodeIfPresent(String.self, forKey: .image)
        containers = try container.decodeIfPresent([Node].self, forKey: .containers) ?? []
        initContainers = try container.decodeIfPresent([Node].self, forKey: .initContainers) ?? []
        volumes = try container.decodeIfPresent([Node].self, forKey: .volumes) ?? []
        nativeSidecar = try container.decodeIfPresent(NativeSidecar.self, forKey: .nativeSidecar) ?? .auto
        failurePolicy = try container.decodeIfPresent(FailurePolicy.self, forKey: .failurePolicy)
    }
}

public typealias SidecarInjector = CustomResource<SidecarInjectorSpec>

extension NetWatchValidation {
    static func problems(in spec: SidecarInjectorSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        if let selector = spec.namespaceSelector { problems += selector.validate(at: "spec.namespaceSelector") }
        if let selector = spec.podSelector { problems += selector.validate(at: "spec.podSelector") }
        var names: [String: String] = [:]
        if spec.sidecar == .networkExporter { names[NetworkExporterSidecar.containerName] = "the built-in network exporter" }
        for (key, list) in [("containers", spec.containers), ("initContainers", spec.initContainers)] {
            for (index, container) in list.enumerated() {
                let path = "spec.\(key)[\(index)]"
                guard case .mapping = container else {
                    problems.append((path, "a container must be a mapping with at least name and image"))
                    continue
                }
                guard let name = container["name"]?.string, isDNSLabel(name) else {
                    problems.append(("\(path).name", "a container needs a name of lowercase letters, digits and '-' (at most 63, a DNS label)"))
                    continue
                }
                if let other = names[name] {
                    problems.append(("\(path).name", "\(name) is already used by \(other); container names must be unique"))
                }
                names[name] = path
                if container["image"]?.string?.isEmpty ?? true {
                    problems.append(("\(path).image", "container \(name) needs an image"))
                }
            }
        }
        if spec.sidecar == .none && spec.containers.isEmpty && spec.initContainers.isEmpty {
            problems.append(("spec.containers", "with sidecar: none the injector needs containers or initContainers; it would inject nothing"))
        }
        var volumes: Set<String> = []
        for (index, volume) in spec.volumes.enumerated() {
            guard let name = volume["name"]?.string, isDNSLabel(name) else {
                problems.append(("spec.volumes[\(index)].name", "a volume needs a name (a DNS label)"))
                continue
            }
            if !volumes.insert(name).inserted { problems.append(("spec.volumes[\(index)].name", "volume \(name) is defined twice")) }
        }
        return problems
    }

    static func isDNSLabel(_ text: String) -> Bool {
        guard (1...63).contains(text.utf8.count), text.first != "-", text.last != "-" else { return false }
        return text.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }
}
