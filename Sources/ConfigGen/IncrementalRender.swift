public import KubeModel
import NetWatchAPI

/// A render kept current pod by pod: what the operator holds between watch events, so one pod
/// event costs one pod's encoding and the files it lands in, not a render of the cluster.
///
/// ## Guarantees
/// - `result` is always byte-identical to `render()` of the snapshot with the same changes
///   applied (a property test checks this against random pod churn).
/// - `apply` returns exactly the artifacts whose bytes changed, or nil when the change cannot
///   be applied incrementally — a pod in a namespace the render has not seen (namespace
///   selectors may pick it up), or a change that adds or removes output files or packaging
///   problems. After nil the value is stale and every later `apply` returns nil too: render
///   the snapshot again.
/// - Pure, like `render()`.
public struct IncrementalRender: Sendable {
    /// A pod as the watch reported it: present (added or updated) or gone.
    public enum PodChange: Sendable {
        case upsert(Pod)
        case delete(namespace: String, name: String)
    }

    public private(set) var result: RenderResult
    public private(set) var isStale = false
    private var stacks: [Renderer.StackOutput]
    private let knownNamespaces: Set<String>
    /// Namespaces a static-discovery ServiceMonitor job looks in (every known one for `.all`).
    private let serviceNamespaces: Set<String>

    public init(snapshot: Snapshot, options: RenderOptions = RenderOptions()) {
        self.init(snapshot: snapshot, options: options, reusable: [:])
    }

    /// A full render of `snapshot` that takes the file_sd document of every pod job it shares
    /// with `previous` from `previous` instead of encoding its pods again — so an edit of one
    /// monitor re-encodes only that monitor's jobs. The caller guarantees that `previous` has
    /// seen the same pods as `snapshot` (every pod change up to the snapshot applied to it);
    /// then the result equals `render(snapshot)`, as a property test checks. A stale
    /// `previous` is not used.
    public init(snapshot: Snapshot, options: RenderOptions = RenderOptions(), reusing previous: IncrementalRender?) {
        var reusable: [ScrapeJob: FileSDDocument] = [:]
        if let previous, !previous.isStale {
            for stack in previous.stacks {
                for entry in stack.documents {
                    guard case .pods = entry.job.targets else { continue }
                    reusable[entry.job] = entry.document
                }
            }
        }
        self.init(snapshot: snapshot, options: options, reusable: reusable)
    }

    private init(snapshot: Snapshot, options: RenderOptions, reusable: [ScrapeJob: FileSDDocument]) {
        let renderer = Renderer(snapshot: snapshot, options: options, reusable: reusable)
        let (stacks, diagnostics) = renderer.run()
        self.stacks = stacks
        knownNamespaces = Set(renderer.planner.namespaceLabels.keys)
        var serviceNamespaces: Set<String> = []
        for stack in stacks where stack.plan.stack.spec.prometheus.discovery == .static {
            for job in stack.plan.jobs {
                guard case .services(let targets) = job.targets else { continue }
                switch targets.namespaces {
                case .all: serviceNamespaces.formUnion(renderer.planner.namespaceLabels.keys)
                case .names(let names): serviceNamespaces.formUnion(names)
                }
            }
        }
        self.serviceNamespaces = serviceNamespaces
        // Injection patches depend on workloads, never on pods: pod changes leave them alone.
        let injection = InjectionPatches(snapshot: snapshot, options: options).artifacts()
        // Policies are proposed from flow files only (the operator's snapshots carry none), so
        // pod changes never touch them.
        let policies = options.flowPolicies ? FlowPolicies(snapshot: snapshot).artifacts() : (artifacts: [], diagnostics: [])
        result = RenderResult(
            artifacts: stacks.flatMap(\.artifacts) + injection.artifacts + policies.artifacts,
            diagnostics: diagnostics + stacks.flatMap(\.packagingDiagnostics) + injection.diagnostics + policies.diagnostics)
    }

    /// Targets of a static-discovery MonitoringStack across its file_sd files; nil for
    /// Kubernetes discovery (Prometheus finds the targets itself) or an unknown stack.
    public func staticTargetCount(stack reference: ObjectReference) -> Int? {
        guard let stack = stacks.first(where: { $0.owner == reference }), stack.plan.stack.spec.prometheus.discovery == .static else { return nil }
        return stack.documents.reduce(0) { $0 + $1.document.targetCount }
    }

    /// The namespaces whose pods some stack's pod jobs look at: nil for every namespace (a job
    /// with `any: true`), else their names.
    public var podJobNamespaces: Set<String>? {
        var names: Set<String> = []
        for stack in stacks {
            for job in stack.plan.jobs {
                guard case .pods(let targets) = job.targets else { continue }
                switch targets.namespaces {
                case .all: return nil
                case .names(let list): names.formUnion(list)
                }
            }
        }
        return names
    }

    /// Targets of a NetworkProbe in the first stack that renders it; nil when no stack does.
    public func probeTargetCount(_ probe: ObjectReference) -> Int? {
        stacks.lazy.compactMap { $0.probeTargets[probe] }.first
    }

    /// Applies pod changes in order; returns the artifacts whose bytes changed (sorted by path),
    /// or nil when a full render is needed.
    public mutating func apply(_ changes: [PodChange]) -> [Artifact]? {
        guard !isStale else { return nil }
        for change in changes where !knownNamespaces.contains(change.namespace) || serviceNamespaces.contains(change.namespace) {
            // ServiceMonitor targets under static discovery carry pod labels through their
            // EndpointSlices; those files are rebuilt by a full render.
            isStale = true
            return nil
        }
        var dirty: [Int: Set<Int>] = [:]  // stack index → document indices
        for change in changes {
            for stackIndex in stacks.indices {
                for documentIndex in stacks[stackIndex].documents.indices {
                    let job = stacks[stackIndex].documents[documentIndex].job
                    guard case .pods = job.targets else { continue }
                    let bytes: [UInt8]? = switch change {
                    case .upsert(let pod): FileSDGenerator.encode(pod, for: job)
                    case .delete: nil
                    }
                    if stacks[stackIndex].documents[documentIndex].document.set(namespace: change.namespace, pod: change.name, bytes: bytes) {
                        dirty[stackIndex, default: []].insert(documentIndex)
                    }
                }
            }
        }
        var changed: [Artifact] = []
        for stackIndex in dirty.keys.sorted() {
            guard let update = refresh(stackIndex, documents: dirty[stackIndex] ?? []) else {
                isStale = true
                return nil
            }
            changed += update
        }
        changed.sort()
        for artifact in changed { replace(artifact) }
        return changed
    }

    /// Re-emits a stack's changed file_sd files and, when packaged, its manifests; nil when the
    /// set of manifests or the packaging problems changed.
    private mutating func refresh(_ stackIndex: Int, documents: Set<Int>) -> [Artifact]? {
        var output = stacks[stackIndex]
        let filesBefore = output.files
        var changedFiles: Set<String> = []
        var changed: [Artifact] = []
        for documentIndex in documents.sorted() {
            let entry = output.documents[documentIndex]
            let bytes = entry.document.bytes
            // A pod removed and added back in one batch leaves the bytes as they were.
            guard bytes != output.files[entry.file].bytes else { continue }
            output.files[entry.file].bytes = bytes
            let file = output.files[entry.file]
            changedFiles.insert(file.name)
            changed.append(output.artifact(file))
        }
        if let packaging = output.packaging, !changedFiles.isEmpty {
            // Only the ConfigMaps holding a changed file are encoded again when the packing
            // stays; otherwise everything is packaged again, as a full render does.
            let manifests: [Manifest]
            if let refreshed = packaging.refreshedFileSD(before: filesBefore, after: output.files, changed: changedFiles, manifests: output.manifests) {
                manifests = refreshed
            } else {
                let (repackaged, problems) = packaging.manifests(for: output.files)
                guard repackaged.map(\.file) == output.manifests.map(\.file), problems == output.packagingDiagnostics else { return nil }
                manifests = repackaged
            }
            for (old, new) in zip(output.manifests, manifests) where old.bytes != new.bytes {
                changed.append(output.artifact(new))
            }
            output.manifests = manifests
        }
        stacks[stackIndex] = output
        return changed
    }

    private mutating func replace(_ artifact: Artifact) {
        var low = 0
        var high = result.artifacts.count
        while low < high {
            let middle = (low + high) / 2
            if result.artifacts[middle].path < artifact.path { low = middle + 1 } else { high = middle }
        }
        precondition(low < result.artifacts.count && result.artifacts[low].path == artifact.path, "an incremental update only replaces existing artifacts")
        result.artifacts[low] = artifact
    }
}

extension IncrementalRender.PodChange {
    public var namespace: String {
        switch self {
        case .upsert(let pod): pod.metadata.namespace ?? "default"
        case .delete(let namespace, _): namespace
        }
    }

    public var name: String {
        switch self {
        case .upsert(let pod): pod.metadata.name
        case .delete(_, let name): name
        }
    }
}
