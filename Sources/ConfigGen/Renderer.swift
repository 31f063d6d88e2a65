import DataTree
import Flows
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
    IncrementalRender(snapshot: snapshot, options: options).result
}

/// The full render of a snapshot, stack by stack, keeping what `IncrementalRender` needs to
/// update the output pod by pod.
struct Renderer {
    let snapshot: Snapshot
    let options: RenderOptions
    let planner: ScrapePlanner
    let pods: PodIndex
    /// Sorted by namespace and name, for ServiceMonitors under static discovery.
    let endpointSlices: [EndpointSlice]
    /// "namespace/name" → Service.
    let services: [String: Service]
    /// Sorted by namespace and name, for Ingress probes under static discovery.
    let ingresses: [Ingress]
    /// Sorted by name, for the kubelet and cAdvisor under static discovery.
    let nodes: [ClusterNode]
    /// file_sd documents of pod jobs already encoded for the same pods, by job: a job equal to
    /// one of these gets the document as it is instead of encoding every pod again.
    let reusable: [ScrapeJob: FileSDDocument]

    init(snapshot: Snapshot, options: RenderOptions, reusable: [ScrapeJob: FileSDDocument] = [:]) {
        self.snapshot = snapshot
        self.options = options
        self.reusable = reusable
        planner = ScrapePlanner(snapshot: snapshot)
        pods = PodIndex(snapshot.pods)
        endpointSlices = snapshot.endpointSlices.sorted { ($0.metadata.namespace ?? "", $0.metadata.name) < ($1.metadata.namespace ?? "", $1.metadata.name) }
        nodes = snapshot.nodes.sorted { $0.metadata.name < $1.metadata.name }
        ingresses = snapshot.ingresses.sorted { ($0.metadata.namespace ?? "", $0.metadata.name) < ($1.metadata.namespace ?? "", $1.metadata.name) }
        services = Dictionary(snapshot.services.map { ("\($0.metadata.namespace ?? "default")/\($0.metadata.name)", $0) }) { first, _ in first }
    }

    /// One stack's rendered state.
    struct StackOutput {
        var plan: StackPlan
        /// `<namespace>/<stack>`, the prefix of every artifact path of the stack.
        var base: String
        var files: [File]
        /// file_sd documents by index into `files`, with the job each one serves.
        var documents: [(file: Int, job: ScrapeJob, document: FileSDDocument)]
        /// Present when the stack's files are also packaged into Kubernetes objects.
        var packaging: KubernetesPackaging?
        var manifests: [Manifest]
        var packagingDiagnostics: [Diagnostic]
        /// Dashboard files and their delivery objects; pod changes never touch them.
        var dashboards: [Artifact] = []
        /// Credential files, their Secret, or the list of what to mount; pod changes never touch them.
        var credentials: [Artifact] = []
        /// Targets of each NetworkProbe the stack selects.
        var probeTargets: [ObjectReference: Int] = [:]

        /// The MonitoringStack every artifact of the stack belongs to.
        var owner: ObjectReference { ObjectReference(kind: NetWatchKind.monitoringStack.rawValue, namespace: plan.stack.namespace, name: plan.stack.name) }

        var artifacts: [Artifact] {
            files.map(artifact) + manifests.map(artifact) + (dashboards + credentials).map { artifact in
                var owned = artifact
                owned.owner = owner
                return owned
            }
        }

        /// A file under `prometheus/`, or the prober's under `blackbox/`.
        func artifact(_ file: File) -> Artifact {
            let directory = file.role == .proberConfig ? "blackbox" : "prometheus"
            return Artifact(path: "\(base)/\(directory)/\(file.name)", bytes: file.bytes, role: file.role, owner: owner)
        }

        func artifact(_ manifest: Manifest) -> Artifact {
            Artifact(path: "\(base)/kubernetes/\(manifest.file)", bytes: manifest.bytes, role: .kubernetesManifest, owner: owner, object: manifest.object)
        }
    }

    func run() -> (stacks: [StackOutput], diagnostics: [Diagnostic]) {
        var outputs: [StackOutput] = []
        var diagnostics: [Diagnostic] = []
        var owners: [String: ObjectReference] = [:]
        // A dashboard or probe selected by several stacks is diagnosed once.
        var reportedDashboards: Set<String> = []
        var reportedProbes: Set<Diagnostic> = []
        let probePlanner = ProbePlanner(planner: planner, services: snapshot.services.sorted {
            ($0.metadata.namespace ?? "default", $0.metadata.name) < ($1.metadata.namespace ?? "default", $1.metadata.name)
        }, ingresses: ingresses, pods: pods)
        // Rule files do not depend on the stack: rendered (and diagnosed) once per object.
        var ruleFiles: [String: RuleFileGenerator.RuleFile] = [:]
        for (kind, objects) in [("NetworkAlerts", snapshot.networkAlerts), ("PrometheusRule", snapshot.prometheusRules)] {
            for alerts in objects.sorted(by: { ($0.namespace, $0.name) < ($1.namespace, $1.name) }) {
                let (file, problems) = RuleFileGenerator.file(for: alerts, kind: kind)
                diagnostics += problems
                ruleFiles["\(kind)/\(alerts.namespace)/\(alerts.name)"] = file
            }
        }
        let stacks = snapshot.monitoringStacks.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        for stack in stacks {
            var plan = planner.plan(stack, monitors: snapshot.networkMonitors, podMonitors: snapshot.podMonitors, serviceMonitors: snapshot.serviceMonitors)
            diagnostics += plan.diagnostics
            let probes = probePlanner.plan(stack, probes: snapshot.networkProbes, operatorProbes: snapshot.prometheusOperatorProbes)
            plan.jobs += probes.jobs
            plan.jobs += ClusterTargetJobs.jobs(for: stack)
            diagnostics += probes.diagnostics.filter { reportedProbes.insert($0).inserted }
            let rules = planner.alerts(for: stack, from: snapshot.networkAlerts).compactMap { ruleFiles["NetworkAlerts/\($0.namespace)/\($0.name)"] }
                + planner.alerts(for: stack, from: snapshot.prometheusRules).compactMap { ruleFiles["PrometheusRule/\($0.namespace)/\($0.name)"] }
            plan.ruleFiles = rules.map(\.relativePath)
            var (files, documents) = prometheusFiles(plan)
            // Appended after the file_sd documents, whose indices into `files` stay valid.
            files += rules.map { File(name: $0.relativePath, bytes: $0.bytes, role: .ruleFile) }
            if !probes.modules.isEmpty {
                files.append(File(name: BlackboxModules.fileName, bytes: emitYAML(BlackboxModules.file(probes.modules)), role: .proberConfig))
            }
            var output = StackOutput(plan: plan, base: "\(stack.namespace)/\(stack.name)", files: files, documents: documents,
                                     packaging: nil, manifests: [], packagingDiagnostics: [])
            output.probeTargets = probes.targetCounts
            let recordings = Set(rules.flatMap(\.recordedSeries))
            let (dashboards, dashboardProblems) = DashboardDelivery(stack: stack, base: output.base, recordings: recordings)
                .artifacts(planner.dashboards(for: stack, from: snapshot.networkDashboards), reported: &reportedDashboards)
            output.dashboards = dashboards
            diagnostics += dashboardProblems
            defer { outputs.append(output) }

            let packaging = KubernetesPackaging(stack: stack, options: options)
            output.credentials = CredentialArtifacts(plan: plan, base: output.base, store: planner.credentials, delivery: options.credentials,
                                                     packaging: packaging).artifacts()
            guard let object = packaging.outputObjectName else { continue }
            let reference = ObjectReference(kind: packaging.outputKind, namespace: stack.namespace, name: object)
            let key = reference.description
            if let owner = owners[key] {
                diagnostics.append(Diagnostic(.error, object: ObjectReference(kind: "MonitoringStack", namespace: stack.namespace, name: stack.name),
                    source: stack.source, field: "spec.prometheus.output",
                    message: "\(reference) is already written by MonitoringStack \(owner.namespace ?? "")/\(owner.name); give each stack its own output"))
                continue
            }
            owners[key] = ObjectReference(kind: "MonitoringStack", namespace: stack.namespace, name: stack.name)
            output.packaging = packaging
            (output.manifests, output.packagingDiagnostics) = packaging.manifests(for: files)
        }
        return (outputs, diagnostics)
    }

    /// A file of a stack's Prometheus directory: `prometheus.yml` (or one per shard) and file_sd.
    struct File {
        var name: String
        var bytes: [UInt8]
        var role: Artifact.Role
    }

    func prometheusFiles(_ plan: StackPlan) -> ([File], [(file: Int, job: ScrapeJob, document: FileSDDocument)]) {
        var files: [File] = []
        var documents: [(file: Int, job: ScrapeJob, document: FileSDDocument)] = []
        let shards = plan.stack.spec.prometheus.shards
        for index in 0..<shards {
            let shard = shards > 1 ? RelabelRules.Shard(index: index, count: shards) : nil
            let name = shards > 1 ? "prometheus-shard-\(index).yml" : "prometheus.yml"
            let tree = PrometheusConfigGenerator.config(for: plan, shard: shard)
            files.append(File(name: name, bytes: emitYAML(tree), role: .prometheusConfig))
        }
        if plan.stack.spec.prometheus.discovery == .static {
            // Jobs' documents are independent: built on every core, gathered in job order.
            let jobs = plan.jobs
            let built = inParallel(jobs.count) { document(for: jobs[$0]) }
            for (job, document) in zip(jobs, built) {
                guard let document else { continue }
                documents.append((files.count, job, document))
                files.append(File(name: FileSDGenerator.relativePath(job), bytes: document.bytes, role: .fileSD))
            }
        }
        return (files, documents)
    }

    /// The file_sd document of one job of a static-discovery stack; nil for jobs without one.
    func document(for job: ScrapeJob) -> FileSDDocument? {
        var document = FileSDDocument()
        switch job.targets {
        case .pods(let targets):
            if let kept = reusable[job] { return kept }
            pods.pods(matching: targets.selector, in: targets.namespaces) { pod in
                if let bytes = FileSDGenerator.encode(pod, for: job) {
                    document.set(namespace: pod.metadata.namespace ?? "default", pod: pod.metadata.name, bytes: bytes)
                }
            }
        case .services:
            // Lines are keyed by slice name in these documents, never by pod name.
            for slice in endpointSlices {
                let namespace = slice.metadata.namespace ?? "default"
                let service = slice.serviceName.flatMap { services["\(namespace)/\($0)"] }
                if let bytes = FileSDGenerator.encode(slice, service: service, pod: { pods.pod(namespace: $0, name: $1) }, for: job) {
                    document.set(namespace: namespace, pod: slice.metadata.name, bytes: bytes)
                }
            }
        case .ingresses:
            // Lines are keyed by Ingress name.
            for ingress in ingresses {
                if let bytes = FileSDGenerator.encode(ingress, for: job) {
                    document.set(namespace: ingress.metadata.namespace ?? "default", pod: ingress.metadata.name, bytes: bytes)
                }
            }
        case .nodes:
            for node in nodes {
                if let bytes = FileSDGenerator.encode(node, for: job) { document.set(namespace: "", pod: node.metadata.name, bytes: bytes) }
            }
        case .staticGroups, .probe:
            return nil
        }
        return document
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
