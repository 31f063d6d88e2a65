import CAllocator
import ConfigGen
import DataTree
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import Prometheus
import NetWatchAPI
import RenderIO
import Synchronization

/// Keeps every MonitoringStack's output — Prometheus configuration, file_sd targets, rule
/// files, dashboards, credentials — in step with the cache, reloads each stack's Prometheus,
/// and reports their status.
///
/// Guarantees: a full render is the same pure `render()` as `netwatch render` fed the same
/// objects, so the output is byte-identical; pod changes are applied to the kept
/// `IncrementalRender`, which writes only the file_sd files (and ConfigMaps) they change and
/// equals a full render by construction and test; unchanged output is not rewritten; a stack
/// whose spec has errors keeps its last good output; reloads and their backoff are per stack.
/// One worker: full renders, pod updates and status share the live render in turn.
final class StackReconciler: Sendable {
    /// What the reconciler is asked to do.
    enum Request: Hashable, Sendable, CustomStringConvertible {
        /// Render the whole snapshot from the cache, write what changed, request reloads,
        /// report status.
        case renderAll
        /// Apply the pending pod changes to the live render and write the files they changed.
        case pods
        /// Reload one stack's Prometheus, verify, report its status; a failure backs off this
        /// stack alone.
        case reload(ObjectReference)
        /// Report status (target counts) after pod churn; coalesced, at most one per delay.
        case status

        var description: String {
            switch self {
            case .renderAll: "render all stacks"
            case .pods: "apply pod changes"
            case .reload(let stack): "reload \(stack)"
            case .status: "report stack status"
            }
        }
    }

    /// Status after pod churn is written at most this often (a target count per pod event
    /// would be a status write per pod event).
    static let statusDelay = Duration.seconds(5)

    let context: OperatorContext
    let controller: Controller<Request, ContinuousClock>
    let reloads: PrometheusReloads
    private let applier: ClusterApplier
    /// The render kept current pod by pod between full renders; nil until the first full
    /// render, and after anything that needs one.
    let live = Mutex<IncrementalRender?>(nil)
    /// Pod changes not yet applied to `live`, latest per pod, and when the oldest of them was
    /// received (for `netwatch_pod_change_duration_seconds`).
    private let pendingPods = Mutex(PendingPods())
    /// The last output of each stack that rendered without errors: an invalid edit keeps it,
    /// so a Prometheus never loses a working configuration to a typo.
    private let lastGood = Mutex<[ObjectReference: [Artifact]]>([:])
    /// The Secrets and ConfigMaps the last full render read (what monitors referenced, and what
    /// of it exists), for the periodic check that re-renders when one changes.
    private let credentials = Mutex<(references: [CredentialFetcher.Reference], objects: [CredentialObject])>(([], []))
    /// Each MonitoringStack's uid, from the last full render (owner references).
    private let ownerUIDs = Mutex<[ObjectReference: String]>([:])

    /// Pod changes not yet applied to the live render.
    private struct PendingPods {
        var changes: [PodKey: IncrementalRender.PodChange] = [:]
        var since: ContinuousClock.Instant?
        /// Whether changes are kept: from the start of the first full render on (and again after
        /// a standby spell). Before it, that render reads every pod from the cache, which applied
        /// each batch before handing it here, so keeping the batch too would only hold a second
        /// copy of the whole cluster while the operator starts.
        var recording = false
        /// A batch came while not recording: the next `.pods` request renders everything.
        var unrecorded = false
    }

    private struct PodKey: Hashable, Comparable {
        var namespace: String
        var name: String
        static func < (lhs: PodKey, rhs: PodKey) -> Bool { (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name) }
    }

    init(context: OperatorContext, transport: any HTTPTransport) {
        self.context = context
        controller = Controller(clock: ContinuousClock(), logger: context.logger)
        applier = ClusterApplier(client: context.client)
        reloads = PrometheusReloads(client: ReloadClient(transport: transport), wallClock: context.options.wallClock, logger: context.logger, metrics: context.metrics)
    }

    /// In a cluster the webhook injects sidecars, so no injection patches are rendered, and
    /// FlowPolicies are planned with the operator's own flow sources and clock; all else is
    /// byte for byte what `netwatch render` writes.
    static let renderOptions: RenderOptions = {
        var options = RenderOptions(injectionPatches: false, flowPolicies: false)
        // The operator can read referenced Secrets, so it delivers their values itself.
        options.credentials = .materialized
        return options
    }()

    /// Takes a batch of pod changes from the watch; they are applied by a `.pods` request.
    func receive(_ batch: [StoreChange<Pod>]) async {
        pendingPods.withLock { pending in
            guard pending.recording else {
                pending.unrecorded = true
                return
            }
            if pending.since == nil { pending.since = .now }
            for change in batch {
                let pod = switch change {
                case .added(let pod), .deleted(let pod), .updated(_, let pod): pod
                }
                let key = PodKey(namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name)
                switch change {
                case .added(var pod), .updated(_, var pod):
                    pod.metadata.namespace = key.namespace
                    pending.changes[key] = .upsert(pod)
                case .deleted:
                    pending.changes[key] = .delete(namespace: key.namespace, name: key.name)
                }
            }
        }
        await controller.enqueue(.pods)
    }

    func reconcile(_ request: Request) async throws -> ReconcileResult {
        guard await context.cache.isSynced() else { return .requeue(after: .milliseconds(200)) }
        guard await context.isLeading else {
            live.withLock { $0 = nil }  // a standby keeps its caches warm and writes nothing
            pendingPods.withLock { $0 = PendingPods() }  // its first render as leader reads the cache
            return .requeue(after: .seconds(2))
        }
        switch request {
        case .renderAll:
            return try await renderAll()
        case .pods:
            return try await applyPendingPods()
        case .reload(let stack):
            guard let result = live.withLock({ $0?.result }) else { return try await renderAll() }
            guard let outcome = await reloads.reload(stack) else { return .awaitChange }
            let stored = await context.cache.objects(of: NetWatchKind.monitoringStack.resource)
            try await reportStatus(stored.filter { $0.key == stack }, result: result)
            if !outcome.succeeded { throw ReconcileError(terminal: false, ReloadFailed(stack: stack)) }
            return .awaitChange
        case .status:
            guard let result = live.withLock({ $0?.result }) else { return try await renderAll() }
            try await reportStatus(await context.cache.objects(of: NetWatchKind.monitoringStack.resource), result: result)
            return .awaitChange
        }
    }

    struct ReloadFailed: Error, CustomStringConvertible {
        var stack: ObjectReference
        var description: String { "the Prometheus reload of \(stack) failed; retrying with backoff" }
    }

    /// Renders everything from the cache and writes what changed.
    private func renderAll() async throws -> ReconcileResult {
        // Drained first and applied to the live render, whose file_sd documents the new render
        // reuses for every job that did not change (so a monitor edit re-encodes only that
        // monitor's jobs): the live render has then seen every pod the cache read below holds,
        // except changes arriving meanwhile, which are applied again afterwards — idempotent
        // for the jobs encoded from the cache, needed for the reused ones.
        let drained = pendingPods.withLock { pending in
            defer { pending = PendingPods(recording: true) }
            return pending.changes.keys.sorted().compactMap { pending.changes[$0] }
        }
        var previous = live.withLock { live -> IncrementalRender? in
            if !drained.isEmpty, live?.apply(drained) == nil { return nil }
            return live
        }
        var stored: [ObjectReference: Node] = [:]
        var existing: Set<String> = []
        var (snapshot, problems) = await context.cache.snapshot { node in
            if let uid = node["metadata"]?["uid"]?.string { existing.insert(uid) }
            if node["kind"] == .string(NetWatchKind.monitoringStack.rawValue) {
                stored[ObjectReference(stored: node, kind: NetWatchKind.monitoringStack.rawValue)] = node
            }
        }
        let stacks = snapshot.monitoringStacks.map { ($0.reference, $0) }
        ownerUIDs.withLock { uids in
            uids = stored.compactMapValues { $0["metadata"]?["uid"]?.string }
        }
        reloads.setURLs(Dictionary(stacks.compactMap { reference, stack in stack.spec.prometheus.reload.map { (reference, $0.url) } }) { first, _ in first })
        try await readCredentials(into: &snapshot)
        let fresh = IncrementalRender(snapshot: snapshot, options: Self.renderOptions, reusing: previous)
        previous = nil  // its documents that were not reused are freed with it below
        snapshot = Snapshot()
        var result = fresh.result
        live.withLock { $0 = fresh }
        context.metrics.fullRenders.increment()
        Self.returnFreedMemory()
        result.diagnostics = problems + result.diagnostics
        keepLastGoodOutput(of: stored.keys.sorted(), in: &result)
        for diagnostic in result.diagnostics {
            context.logger.warning("\(diagnostic.description)", metadata: ["reconcile.object": "\(diagnostic.object.map { "\($0)" } ?? "")"])
        }
        let written = try await write(result.artifacts, everything: true)
        try await reportStatus(stored, result: result)
        try await reportObjects(result.diagnostics, artifacts: result.artifacts)
        context.status.forget(except: existing)
        for stack in reloads.configurationChanged(Set(written.filter(\.needsReload).compactMap(\.owner))) {
            await controller.enqueue(.reload(stack))
        }
        return .awaitChange
    }

    /// Writes artifacts to the output directory or applies them to the cluster. `everything`:
    /// the whole output (what is no longer in it is removed). Returns the files written whose
    /// reload is the operator's job: those of a directory output. In-cluster, Prometheus's
    /// config reloader reloads once the kubelet has updated the mounted objects, which only it
    /// can see.
    private func write(_ artifacts: [Artifact], everything: Bool) async throws -> [Artifact] {
        do {
            if let directory = context.options.outputDirectory {
                let output = OutputDirectory(root: directory)
                guard everything else {
                    try output.replace(artifacts)
                    return artifacts
                }
                let changes = try output.write(artifacts)
                for warning in changes.warnings { context.logger.warning("output directory: \(warning)") }
                if !changes.written.isEmpty || !changes.removed.isEmpty {
                    context.logger.info("output updated", metadata: ["output.written": "\(changes.written.count)", "output.removed": "\(changes.removed.count)", "output.unchanged": "\(changes.unchanged)"])
                }
                let written = Set(changes.written)
                return artifacts.filter { written.contains($0.path) }
            }
            let outcome = try await applier.apply(artifacts, ownerUIDs: ownerUIDs.withLock { $0 }, prune: everything)
            if everything, outcome.applied + outcome.deleted > 0 {
                context.logger.info("cluster objects updated", metadata: ["apply.applied": "\(outcome.applied)", "apply.deleted": "\(outcome.deleted)", "apply.unchanged": "\(outcome.unchanged)"])
            }
            return []
        } catch {
            live.withLock { $0 = nil }  // the next full render compares with what is really there
            context.metrics.applyErrors.increment()
            throw ReconcileError(terminal: false, error)
        }
    }

    /// Applies the pending pod changes to the live render and writes only the artifacts they
    /// changed: file_sd files (and their ConfigMaps), which Prometheus re-reads without a reload.
    private func applyPendingPods() async throws -> ReconcileResult {
        let (changes, since, unrecorded) = pendingPods.withLock { pending in
            defer { pending = PendingPods(recording: pending.recording) }
            return (pending.changes.keys.sorted().compactMap { pending.changes[$0] }, pending.since, pending.unrecorded)
        }
        if unrecorded { return try await renderAll() }
        guard !changes.isEmpty, let since else { return .awaitChange }
        // Mutated in place under the lock: a copy would duplicate every file_sd document.
        guard let changed = live.withLock({ $0?.apply(changes) }) else {
            return try await renderAll()
        }
        context.metrics.incrementalRenders.increment()
        guard !changed.isEmpty else { return .awaitChange }
        context.metrics.podChangeRendered.record(.now - since)
        _ = try await write(changed, everything: false)
        context.metrics.podChangeWritten.record(.now - since)
        updateLastGood(with: changed)
        await controller.enqueue(.status, after: Self.statusDelay)
        return .awaitChange
    }

    /// A stack with errors renders nothing; it keeps its last good files instead of losing them.
    private func keepLastGoodOutput(of stacks: [ObjectReference], in result: inout RenderResult) {
        for stack in stacks {
            let invalid = result.diagnostics.contains { $0.severity == .error && $0.object == stack }
            let mine = result.artifacts.filter { $0.owner == stack }
            if invalid && mine.isEmpty {
                result.artifacts += lastGood.withLock { $0[stack] } ?? []
            } else if !invalid {
                lastGood.withLock { $0[stack] = mine }
            }
        }
        result.artifacts.sort()
    }

    /// Keeps the last good output of valid stacks current under incremental updates.
    private func updateLastGood(with changed: [Artifact]) {
        lastGood.withLock { lastGood in
            for artifact in changed {
                guard let owner = artifact.owner, let index = lastGood[owner]?.firstIndex(where: { $0.path == artifact.path }) else { continue }
                lastGood[owner]?[index] = artifact
            }
        }
    }

    /// Fills the snapshot with the Secrets and ConfigMaps its monitors reference, read now, and
    /// remembers them so `credentialsChanged` can tell when they change.
    private func readCredentials(into snapshot: inout Snapshot) async throws {
        let references = CredentialFetcher.references(in: snapshot)
        let objects: [CredentialObject]
        do {
            objects = try await CredentialFetcher(client: context.client).fetch(references)
        } catch {
            throw ReconcileError(terminal: false, error)
        }
        snapshot.credentialObjects = objects
        snapshot.credentialsAuthoritative = true
        credentials.withLock { $0 = (references, objects) }
    }

    /// Whether the referenced Secrets and ConfigMaps differ from those of the last render
    /// (nothing referenced: false, without a request).
    func credentialsChanged() async -> Bool {
        let (references, objects) = credentials.withLock { $0 }
        guard !references.isEmpty else { return false }
        guard let current = try? await CredentialFetcher(client: context.client).fetch(references) else { return false }
        return current != objects
    }

    /// A full render allocates a transient copy of the snapshot, and the first list before it
    /// much more; glibc keeps freed pages in its arenas (at 100,000 pods: 262 MB resident
    /// before this call, 231 MB after), so they are handed back to the kernel here.
    private static func returnFreedMemory() {
        _ = callocator_release_free_memory()
    }
}

extension CustomResource where Spec == MonitoringStackSpec {
    /// The stack's reference, as artifacts name their owner.
    var reference: ObjectReference {
        ObjectReference(kind: NetWatchKind.monitoringStack.rawValue, namespace: namespace, name: name)
    }
}
