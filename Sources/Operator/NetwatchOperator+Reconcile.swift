public import ConfigGen
import DataTree
import KubeClient
import KubeModel
import KubeRuntime
import CAllocator
import Foundation
import Logging
import Prometheus
import RenderIO
import Synchronization

extension NetwatchOperator {
    /// What the single worker does for a queue key.
    enum Work: Hashable, Sendable {
        /// Render the whole snapshot from the stores, write what changed, reload, report status.
        case render
        /// Apply the pending pod changes to the live render and write the files they changed.
        case pods
        /// Reload the Prometheus servers whose configuration changed, verify, report status;
        /// a failure retries only this, with backoff, not the render.
        case reload
        /// Report status (target counts) after pod churn; coalesced, at most one per delay.
        case status
        /// Keep the webhook's certificates, Secret, configuration and injector status.
        case webhook
        /// Read the flow sources and plan, report and (in enforce mode) apply every FlowPolicy;
        /// requeued every `flowInterval` while FlowPolicies exist.
        case flows
    }

    /// In a cluster the webhook injects sidecars, so no injection patches are rendered, and
    /// FlowPolicies are planned with the operator's own flow sources and clock; all else is
    /// byte for byte what `netwatch render` writes.
    public static let renderOptions: RenderOptions = {
        var options = RenderOptions(injectionPatches: false, flowPolicies: false)
        // The operator can read referenced Secrets, so it delivers their values itself.
        options.credentials = .materialized
        return options
    }()

    /// Status after pod churn is written at most this often (a target count per pod event
    /// would be a status write per pod event).
    static let statusDelay = Duration.seconds(5)

    static func key(_ change: StoreChange<Pod>) -> String {
        let pod = switch change {
        case .added(let pod), .deleted(let pod), .updated(_, let pod): pod
        }
        return "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name)"
    }

    static func podChange(_ change: StoreChange<Pod>) -> IncrementalRender.PodChange {
        switch change {
        case .added(var pod), .updated(_, var pod):
            if pod.metadata.namespace == nil { pod.metadata.namespace = "default" }
            return .upsert(pod)
        case .deleted(let pod):
            return .delete(namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name)
        }
    }

    /// Whether a change can affect the output: anything but an update of status or bookkeeping
    /// only (our own status writes come back through the watch and must not re-render).
    static func isSignificant(_ change: StoreChange<Node>) -> Bool {
        guard case .updated(let old, let new) = change else { return true }
        return withoutVolatileFields(old) != withoutVolatileFields(new)
    }

    static func describe(_ change: StoreChange<Node>) -> String {
        let (verb, object) = switch change {
        case .added(let object): ("added", object)
        case .updated(_, let object): ("updated", object)
        case .deleted(let object): ("deleted", object)
        }
        let metadata = object["metadata"]
        return "\(verb) \(object["kind"]?.string ?? "") \(metadata?["namespace"]?.string.map { $0 + "/" } ?? "")\(metadata?["name"]?.string ?? "")"
    }

    static func withoutVolatileFields(_ object: Node) -> Node {
        guard case .mapping(var map) = object else { return object }
        map["status"] = nil
        if case .mapping(var metadata)? = map["metadata"] {
            metadata["resourceVersion"] = nil
            metadata["managedFields"] = nil
            map["metadata"] = .mapping(metadata)
        }
        return .mapping(map)
    }

    func reconcile(_ work: Work) async throws -> ReconcileResult {
        guard servedOptional.withLock({ $0 != nil }) else { return .requeue(after: .milliseconds(200)) }
        for reflector in reflectors where !(await reflector.snapshot().isReady) {
            return .requeue(after: .milliseconds(200))
        }
        guard await pods.snapshot().isReady else { return .requeue(after: .milliseconds(200)) }
        if work == .webhook {
            guard let settings = options.webhook else { return .awaitChange }
            let leading = if let lease { await lease.isLeader } else { true }
            return try await reconcileWebhook(settings, leading: leading)
        }
        if work == .flows { return try await reconcileFlows() }  // every replica runs the sources
        if let lease, !(await lease.isLeader) {
            live.withLock { $0 = nil }  // a standby keeps its caches warm and writes nothing
            return .requeue(after: .seconds(2))
        }
        switch work {
        case .render:
            return try await renderEverything()
        case .pods:
            return try await applyPendingPods()
        case .reload:
            guard let result = live.withLock({ $0?.result }) else { return try await renderEverything() }
            let stacks = await monitoringStacks()
            let failed = await reloadPending(stacks)
            try await reportStatus(stacks, result: result)
            if failed { throw ReconcileError(terminal: false, ReloadFailed()) }
            return .awaitChange
        case .status:
            guard let result = live.withLock({ $0?.result }) else { return try await renderEverything() }
            try await reportStatus(await monitoringStacks(), result: result)
            return .awaitChange
        case .webhook, .flows:
            return .awaitChange  // handled above, for standbys too
        }
    }

    /// MonitoringStacks by "namespace/name", from the store.
    func monitoringStacks() async -> [String: Node] {
        var stacks: [String: Node] = [:]
        for reflector in reflectors {
            let store = await reflector.snapshot()
            for (key, node) in store.objects where node["kind"] == "MonitoringStack" { stacks[key] = node }
        }
        return stacks
    }

    /// The snapshot render reads, decoded from every watched store and the pod store (pods
    /// without a namespace get `default`); `visit` sees each stored object with its key.
    func storedSnapshot(_ visit: (String, Node) -> Void = { _, _ in }) async -> (Snapshot, [Diagnostic]) {
        var raw: [RawObject] = []
        for reflector in reflectors {
            let store = await reflector.snapshot()
            for key in store.objects.keys.sorted() {
                guard let node = store[key] else { continue }
                raw += ObjectReader.rawObjects(from: node, source: nil).0
                visit(key, node)
            }
        }
        var (snapshot, problems) = Snapshot.decode(raw)
        let podStore = await pods.snapshot()
        snapshot.pods = podStore.objects.keys.sorted().compactMap { key in
            guard var pod = podStore[key] else { return nil }
            if pod.metadata.namespace == nil { pod.metadata.namespace = "default" }
            return pod
        }
        return (snapshot, problems)
    }

    /// Renders everything from the stores and writes what changed.
    func renderEverything() async throws -> ReconcileResult {
        // Drained first: every change drained is already in the stores read below; changes
        // arriving meanwhile are applied again afterwards, which is idempotent.
        pendingPods.withLock { $0 = [:] }
        var uids: [String: String] = [:]
        var stacks: [String: Node] = [:]
        var existing: Set<String> = []
        var (snapshot, problems) = await storedSnapshot { key, node in
            if let uid = node["metadata"]?["uid"]?.string { existing.insert(uid) }
            guard node["kind"] == "MonitoringStack" else { return }
            stacks[key] = node
            if let uid = node["metadata"]?["uid"]?.string { uids[key] = uid }
        }
        stackUIDs.withLock { $0 = uids }
        try await readCredentials(into: &snapshot)
        let fresh = IncrementalRender(snapshot: snapshot, options: Self.renderOptions)
        snapshot = Snapshot()
        var result = fresh.result
        live.withLock { $0 = fresh }
        metrics.fullRenders.increment()
        Self.returnFreedMemory()
        result.diagnostics = problems + result.diagnostics
        keepLastGoodOutput(of: stacks.keys.sorted(), in: &result)
        for diagnostic in result.diagnostics {
            logger.warning("\(diagnostic.description)", metadata: ["reconcile.object": "\(diagnostic.object.map { "\($0)" } ?? "")"])
        }
        do {
            if let directory = options.outputDirectory {
                let changes = try OutputDirectory(root: directory).write(result.artifacts)
                for warning in changes.warnings { logger.warning("output directory: \(warning)") }
                // A changed prometheus*.yml needs a reload; file_sd changes are picked up by Prometheus itself.
                let changedConfigs = changes.written.filter { $0.contains("/prometheus/") && !$0.contains("/file_sd/") }
                let affected = Set(changedConfigs.map { $0.split(separator: "/").prefix(2).joined(separator: "/") })
                reloads.withLock { $0.pending.formUnion(affected) }
                if !changes.written.isEmpty || !changes.removed.isEmpty {
                    logger.info("output updated", metadata: ["output.written": "\(changes.written.count)", "output.removed": "\(changes.removed.count)", "output.unchanged": "\(changes.unchanged)"])
                }
            } else {
                let outcome = try await applier.apply(result.artifacts, stackUIDs: uids, prune: true)
                if outcome.applied + outcome.deleted > 0 {
                    logger.info("cluster objects updated", metadata: ["apply.applied": "\(outcome.applied)", "apply.deleted": "\(outcome.deleted)", "apply.unchanged": "\(outcome.unchanged)"])
                }
            }
        } catch {
            live.withLock { $0 = nil }
            metrics.applyErrors.increment()
            throw ReconcileError(terminal: false, error)
        }
        try await reportStatus(stacks, result: result)
        try await reportMonitors(result.diagnostics, artifacts: result.artifacts)
        forgetWrittenStatus(except: existing)
        if !reloads.withLock({ $0.pending.isEmpty }) { await controller.enqueue(.reload) }
        return .awaitChange
    }

    /// Fills the snapshot with the Secrets and ConfigMaps its monitors reference, read now, and
    /// remembers them so `credentialsChanged` can tell when they change.
    func readCredentials(into snapshot: inout Snapshot) async throws {
        let references = CredentialFetcher.references(in: snapshot)
        let objects: [CredentialObject]
        do {
            objects = try await CredentialFetcher(client: client).fetch(references)
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
        guard let current = try? await CredentialFetcher(client: client).fetch(references) else { return false }
        return current != objects
    }

    /// A full render allocates a transient copy of the snapshot, and the first list before it
    /// much more; glibc keeps freed pages in its arenas (at 100,000 pods: 262 MB resident
    /// before this call, 231 MB after), so they are handed back to the kernel here.
    static func returnFreedMemory() {
        _ = callocator_release_free_memory()
    }

    /// Applies the pending pod changes to the live render and writes only the artifacts they
    /// changed: file_sd files (and their ConfigMaps), which Prometheus re-reads without a reload.
    func applyPendingPods() async throws -> ReconcileResult {
        let changes = pendingPods.withLock { pending in
            defer { pending = [:] }
            return pending.keys.sorted().compactMap { pending[$0] }
        }
        guard !changes.isEmpty else { return .awaitChange }
        // Mutated in place under the lock: a copy would duplicate every file_sd document.
        guard let changed = live.withLock({ $0?.apply(changes) }) else {
            return try await renderEverything()
        }
        metrics.incrementalRenders.increment()
        guard !changed.isEmpty else { return .awaitChange }
        do {
            if let directory = options.outputDirectory {
                try OutputDirectory(root: directory).replace(changed)
            } else {
                _ = try await applier.apply(changed, stackUIDs: stackUIDs.withLock { $0 }, prune: false)
            }
        } catch {
            live.withLock { $0 = nil }  // the next full render compares with what is really there
            metrics.applyErrors.increment()
            throw ReconcileError(terminal: false, error)
        }
        updateLastGood(with: changed)
        await controller.enqueue(.status, after: Self.statusDelay)
        return .awaitChange
    }
}
