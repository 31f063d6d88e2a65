import DataTree
import KubeModel
import NetWatchAPI
import YAML

/// Renders everything netwatch generates from a snapshot.
///
/// ## Guarantees
/// - Pure: reads nothing but its arguments; no clock, environment, files or logging.
/// - Deterministic: the bytes depend only on the set of objects in the snapshot, not on their
///   order; every collection is sorted or kept in declared order before it is emitted.
/// - Total: bad input never throws. Invalid resources were already turned into diagnostics by
///   `Snapshot.decode`; problems found while rendering (a timeout longer than its stack's
///   interval, two stacks writing the same ConfigMap) become diagnostics and the rest renders.
public func render(_ snapshot: Snapshot, options: RenderOptions = RenderOptions()) -> RenderResult {
    Renderer(snapshot: snapshot, options: options).run()
}

struct Renderer {
    let snapshot: Snapshot
    let options: RenderOptions
    let planner: ScrapePlanner
    let pods: PodIndex

    init(snapshot: Snapshot, options: RenderOptions) {
        self.snapshot = snapshot
        self.options = options
        planner = ScrapePlanner(snapshot: snapshot)
        pods = PodIndex(snapshot.pods)
    }

    func run() -> RenderResult {
        var artifacts: [Artifact] = []
        var diagnostics: [Diagnostic] = []
        var outputs: [String: ObjectReference] = [:]
        let stacks = snapshot.monitoringStacks.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        for stack in stacks {
            let plan = planner.plan(stack, monitors: snapshot.networkMonitors)
            diagnostics += plan.diagnostics
            let base = "\(stack.namespace)/\(stack.name)"
            let files = prometheusFiles(plan)
            artifacts += files.map { Artifact(path: "\(base)/prometheus/\($0.name)", bytes: $0.bytes, role: $0.role) }

            let packaging = KubernetesPackaging(stack: stack, options: options)
            guard let object = packaging.outputObjectName else { continue }
            let reference = ObjectReference(kind: packaging.outputKind, namespace: stack.namespace, name: object)
            let key = reference.description
            if let owner = outputs[key] {
                diagnostics.append(Diagnostic(.error, object: ObjectReference(kind: "MonitoringStack", namespace: stack.namespace, name: stack.name),
                    source: stack.source, field: "spec.prometheus.output",
                    message: "\(reference) is already written by MonitoringStack \(owner.namespace ?? "")/\(owner.name); give each stack its own output"))
                continue
            }
            outputs[key] = ObjectReference(kind: "MonitoringStack", namespace: stack.namespace, name: stack.name)
            let (manifests, problems) = packaging.manifests(for: files)
            diagnostics += problems
            artifacts += manifests.map { Artifact(path: "\(base)/kubernetes/\($0.name)", bytes: $0.bytes, role: .kubernetesManifest) }
        }
        return RenderResult(artifacts: artifacts, diagnostics: diagnostics)
    }

    /// A file of a stack's Prometheus directory: `prometheus.yml` (or one per shard) and file_sd.
    struct File {
        var name: String
        var bytes: [UInt8]
        var role: Artifact.Role
    }

    func prometheusFiles(_ plan: StackPlan) -> [File] {
        var files: [File] = []
        let shards = plan.stack.spec.prometheus.shards
        for index in 0..<shards {
            let shard = shards > 1 ? RelabelRules.Shard(index: index, count: shards) : nil
            let name = shards > 1 ? "prometheus-shard-\(index).yml" : "prometheus.yml"
            let tree = PrometheusConfigGenerator.config(for: plan, shard: shard)
            files.append(File(name: name, bytes: emitYAML(tree), role: .prometheusConfig))
        }
        if plan.stack.spec.prometheus.discovery == .static {
            for job in plan.jobs {
                guard case .pods(let targets) = job.targets else { continue }
                var document = FileSDDocument()
                pods.pods(in: targets.namespaces) { pod in
                    if let bytes = FileSDGenerator.encode(pod, for: job) {
                        document.set(namespace: pod.metadata.namespace ?? "default", pod: pod.metadata.name, bytes: bytes)
                    }
                }
                files.append(File(name: FileSDGenerator.relativePath(job), bytes: document.bytes, role: .fileSD))
            }
        }
        return files
    }
}

/// YAML bytes of a generated tree. The emitter fails only on a bug (never on input), and then
/// the message is written into the output where it cannot go unnoticed.
func emitYAML(_ node: Node) -> [UInt8] {
    do {
        return try YAMLEmitter().emit(node)
    } catch {
        return Array("# netwatch: internal error emitting YAML: \(error)\n".utf8)
    }
}
