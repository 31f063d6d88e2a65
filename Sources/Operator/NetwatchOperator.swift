import CAllocator
import ConfigGen
import DataTree
public import KubeClient
import KubeModel
public import KubeRuntime
public import Logging
import NetWatchAPI
import Prometheus
public import ServiceLifecycle
import RenderIO
import Synchronization
import Foundation

/// `netwatch operator`: watches the objects `render` reads, and keeps the rendered output in
/// step with the cluster.
///
/// Guarantees: nothing is rendered until every watched kind has completed its first list (a
/// partial view would prune files that should stay); a change to any watched object except a
/// pod enqueues one coalesced full render, the same pure `render()` as `netwatch render` fed
/// the same objects, so the output is byte-identical; pod changes are applied to the kept
/// `IncrementalRender`, which writes only the file_sd files (and ConfigMaps) they change and
/// equals a full render by construction and test; updates of status alone never re-render;
/// unchanged files are not rewritten. With leader election, only the leader writes.
public final class NetwatchOperator: ServiceLifecycle.Service, Sendable {
    public struct Options: Sendable {
        /// Write the output here (atomically, compare-before-write), for a Prometheus outside
        /// the cluster; nil applies the rendered ConfigMaps and Secrets to the cluster instead.
        public var outputDirectory: String?
        /// Leader election on a Lease in this namespace; nil runs without it (one replica).
        public var leaseNamespace: String?
        public var identity: String
        public var watchTimeoutSeconds: Int
        /// Serve /healthz, /readyz and /metrics here (host, port); nil serves nothing.
        public var healthAddress: (host: String, port: Int)?
        /// Serve the sidecar-injection webhook and keep its certificates and configuration; nil: no webhook.
        public var webhook: WebhookSettings?
        /// The address FlowPolicies' IPFIX/NetFlow collectors listen on (their ports come from the FlowPolicies).
        public var flowListenHost: String
        /// How often FlowPolicies are planned again (their sources are read as often).
        public var flowInterval: Duration
        /// How often the Secrets and ConfigMaps scrape endpoints reference are read again.
        public var credentialsInterval: Duration = .seconds(30)
        /// How often the API server is asked again whether prometheus-operator's kinds are
        /// served, so installing (or removing) their CRDs starts (or stops) their watches.
        public var optionalKindsInterval: Duration = .seconds(30)
        /// Where the timestamps it writes come from (condition times, Events, lease times).
        public var wallClock: WallClock = .system

        public init(outputDirectory: String?, leaseNamespace: String? = nil, identity: String = "netwatch", watchTimeoutSeconds: Int = 300,
                    healthAddress: (host: String, port: Int)? = nil, webhook: WebhookSettings? = nil,
                    flowListenHost: String = "0.0.0.0", flowInterval: Duration = .seconds(10)) {
            self.flowListenHost = flowListenHost
            self.flowInterval = flowInterval
            self.webhook = webhook
            self.healthAddress = healthAddress
            self.outputDirectory = outputDirectory
            self.leaseNamespace = leaseNamespace
            self.identity = identity
            self.watchTimeoutSeconds = watchTimeoutSeconds
        }
    }

    /// The kinds render reads, watched in all namespaces. Pods are watched separately, decoded
    /// straight into the `Pod` projection (the bulk of the cache; ~1.5 KB each).
    public static let watchedResources: [APIResource] = [
        .namespaces, .services,
        APIResource(group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true),
        APIResource(group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet", namespaced: true),
        APIResource(group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet", namespaced: true),
        APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "monitoringstacks", kind: "MonitoringStack", namespaced: true),
        APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkmonitors", kind: "NetworkMonitor", namespaced: true),
        APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkalerts", kind: "NetworkAlerts", namespaced: true),
        APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkdashboards", kind: "NetworkDashboard", namespaced: true),
        sidecarInjectors,
        flowPolicies,
    ]

    /// prometheus-operator's kinds, watched only when their CRDs are served (checked at start).
    public static let optionalResources: [APIResource] = PrometheusOperatorKind.allCases.map {
        APIResource(group: PrometheusOperatorKind.group, version: PrometheusOperatorKind.version, resource: $0.plural, kind: $0.rawValue, namespaced: true)
    }

    /// Kinds watched only when another kind is served: EndpointSlices matter to ServiceMonitors
    /// alone (static discovery resolves them), so a cluster without prometheus-operator's CRDs
    /// never caches them.
    static let dependentResources: [(resource: APIResource, neededBy: APIResource)] = [
        (.endpointSlices, APIResource(group: PrometheusOperatorKind.group, version: PrometheusOperatorKind.version,
                                      resource: PrometheusOperatorKind.serviceMonitor.plural, kind: PrometheusOperatorKind.serviceMonitor.rawValue, namespaced: true)),
    ]

    let client: KubeClient
    let options: Options
    let logger: Logger
    /// One reflector per kind of `watchedResources`, `optionalResources` and
    /// `dependentResources`, in that order.
    let allReflectors: [(resource: APIResource, reflector: Reflector<Node, ContinuousClock>)]
    /// Which optional kinds the API server serves; nil until checked (not ready before).
    let servedOptional = Mutex<Set<APIResource>?>(nil)
    /// The running watches of optional and dependent kinds, started and stopped as their CRDs
    /// come and go.
    let optionalWatches = Mutex<[APIResource: Task<Void, Never>]>([:])
    let pods: Reflector<Pod, ContinuousClock>
    let controller: Controller<Work, ContinuousClock>
    let lease: LeaseLock<ContinuousClock>?
    let applier: ClusterApplier
    /// Status last written per stack ("namespace/name"), so an unchanged status is not sent.
    let writtenStatus = Mutex<[String: Node]>([:])
    let reloader: ReloadClient
    /// The last output of each stack that rendered without errors: an invalid edit keeps it,
    /// so a Prometheus never loses a working configuration to a typo.
    let lastGood = Mutex<[String: [Artifact]]>([:])
    /// The render kept current pod by pod between full renders; nil until the first full
    /// render, and after anything that needs one.
    let live = Mutex<IncrementalRender?>(nil)
    /// Pod changes not yet applied to `live`, latest per pod ("namespace/name").
    let pendingPods = Mutex<[String: IncrementalRender.PodChange]>([:])
    /// The valid SidecarInjectors, for the webhook.
    let webhookInjectors = Mutex<[SidecarInjection.Injector]>([])
    /// Namespace labels from the watch, for the webhook's namespace selectors.
    let namespaceLabels = Mutex<[String: [String: String]]>([:])
    /// The Secrets and ConfigMaps the last full render read (what monitors referenced, and what
    /// of it exists), for the periodic check that re-renders when one changes.
    let credentials = Mutex<(references: [CredentialFetcher.Reference], objects: [CredentialObject])>(([], []))
    /// MonitoringStack "namespace/name" → uid, from the last full render (owner references).
    let stackUIDs = Mutex<[String: String]>([:])
    let events: EventRecorder
    /// The operator's own metrics.
    public let metrics = OperatorMetrics()
    /// The flow sources FlowPolicies name, and when this process started observing for each
    /// FlowPolicy ("namespace/name", epoch milliseconds).
    let flowSources: FlowSources
    let flowStarts = Mutex<[String: Int64]>([:])
    /// Learned NetworkPolicies last applied ("namespace/name" → object), so unchanged ones are not sent.
    let appliedFlowPolicies = Mutex<[String: Node]>([:])
    let lastFlowStatistics = Mutex(FlowSources.Statistics())
    /// Stacks whose Prometheus configuration changed and has not been reloaded successfully yet,
    /// and the last reload outcome per stack.
    let reloads = Mutex<(pending: Set<String>, outcomes: [String: ReloadClient.Outcome])>(([], [:]))

    /// `transport` carries the reload POSTs and the checks of Prometheus's own metrics.
    public init(client: KubeClient, options: Options, logger: Logger, transport: any HTTPTransport) {
        // List bodies and render buffers are large and short-lived: keep them out of the heap.
        callocator_fix_mmap_threshold(256 * 1024)
        reloader = ReloadClient(transport: transport)
        flowSources = FlowSources(listenHost: options.flowListenHost, transport: transport, logger: logger)
        self.client = client
        self.options = options
        self.logger = logger
        let clock = ContinuousClock()
        pods = Reflector<Pod, ContinuousClock>(
            client: client, resource: .pods, clock: clock, logger: logger,
            key: { "\($0.metadata.namespace ?? "")/\($0.metadata.name)" }, resourceVersion: { $0.metadata.resourceVersion })
        allReflectors = (Self.watchedResources + Self.optionalResources + Self.dependentResources.map(\.resource)).map { resource in
            (resource, Reflector<Node, ContinuousClock>(
                client: client, resource: resource, clock: clock, logger: logger,
                key: { "\($0["metadata"]?["namespace"]?.string ?? "")/\($0["metadata"]?["name"]?.string ?? "")" },
                resourceVersion: { $0["metadata"]?["resourceVersion"]?.string }))
        }
        controller = Controller(clock: clock, logger: logger)
        applier = ClusterApplier(client: client)
        events = EventRecorder(client: client, logger: logger, identity: options.identity, wallClock: options.wallClock)
        lease = options.leaseNamespace.map {
            LeaseLock(client: client, namespace: $0, name: "netwatch-operator", elector: LeaderElector(identity: options.identity), clock: clock, wallClock: options.wallClock, logger: logger)
        }
    }

    /// Runs until the calling task is cancelled or, inside a swift-service-lifecycle
    /// `ServiceGroup`, a graceful shutdown begins (SIGTERM); the lease is released either way.
    public func run() async {
        await cancelWhenGracefulShutdown { await self.runUntilCancelled() }
    }

    private func runUntilCancelled() async {
        await withTaskCancellationHandler {
            await runWatchesAndWork()
        } onCancel: {
            optionalWatches.withLock { watches in
                for task in watches.values { task.cancel() }
                watches = [:]
            }
        }
    }

    /// What a batch of store changes of `resource` triggers.
    func react(to batch: [StoreChange<Node>], of resource: APIResource) async {
        if resource == .namespaces { trackNamespaceLabels(batch) }
        if resource == Self.sidecarInjectors {
            if options.webhook != nil, batch.contains(where: Self.isSignificant) { await controller.enqueue(.webhook) }
            return
        }
        if resource == Self.flowPolicies {
            if batch.contains(where: Self.isSignificant) { await controller.enqueue(.flows) }
            return
        }
        guard let change = batch.first(where: Self.isSignificant) else { return }
        logger.debug("change enqueues a full render", metadata: ["reconcile.trigger": "\(Self.describe(change))"])
        await controller.enqueue(.render)
    }

    /// Starts the watch of an optional or dependent kind (from a list) unless it runs.
    func startWatching(_ resource: APIResource, _ reflector: Reflector<Node, ContinuousClock>) {
        optionalWatches.withLock { watches in
            guard watches[resource] == nil else { return }
            watches[resource] = Task {
                await reflector.relistOnNextRun()
                await reflector.setWatchTimeout(self.options.watchTimeoutSeconds)
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await reflector.run(finishingChanges: false) }
                    group.addTask {
                        for await batch in reflector.changes { await self.react(to: batch, of: resource) }
                    }
                }
            }
        }
    }

    /// Starts and stops the watches of optional and dependent kinds to match `servedOptional`.
    func reconcileOptionalWatches() {
        for (resource, reflector) in allReflectors where !Self.watchedResources.contains(resource) {
            if isWatched(resource) {
                startWatching(resource, reflector)
            } else if let task = optionalWatches.withLock({ $0.removeValue(forKey: resource) }) {
                task.cancel()
                logger.info("stopped watching: the API server no longer serves it", metadata: ["kube.resource": "\(resource)"])
            }
        }
    }

    /// Asks again every `optionalKindsInterval` which optional kinds are served; a change starts
    /// or stops their watches and re-renders.
    func superviseOptionalKinds() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.optionalKindsInterval)
            if Task.isCancelled { return }
            let before = servedOptional.withLock { $0 } ?? []
            let now = await probeOptionalResourcesOnce(previous: before)
            guard now != before else { continue }
            for resource in now.subtracting(before) {
                logger.info("watching prometheus-operator resources: their CRD is installed", metadata: ["kube.resource": "\(resource)"])
            }
            servedOptional.withLock { $0 = now }
            reconcileOptionalWatches()
            await controller.enqueue(.render)
        }
    }

    private func runWatchesAndWork() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let served = await self.probeOptionalResources()
                self.servedOptional.withLock { $0 = served }
                self.reconcileOptionalWatches()
                await withTaskGroup(of: Void.self) { reflectors in
                    for (resource, reflector) in self.allReflectors where Self.watchedResources.contains(resource) {
                        reflectors.addTask {
                            await reflector.setWatchTimeout(self.options.watchTimeoutSeconds)
                            await reflector.run()
                        }
                        reflectors.addTask {
                            for await batch in reflector.changes { await self.react(to: batch, of: resource) }
                        }
                    }
                    reflectors.addTask { await self.superviseOptionalKinds() }
                }
            }
            group.addTask {
                await self.pods.setWatchTimeout(self.options.watchTimeoutSeconds)
                await self.pods.run()
            }
            group.addTask {
                for await batch in self.pods.changes {
                    self.pendingPods.withLock { pending in
                        for change in batch { pending[Self.key(change)] = Self.podChange(change) }
                    }
                    await self.controller.enqueue(.pods)
                }
            }
            if let lease {
                group.addTask { await lease.run() }
            }
            group.addTask { await self.controller.enqueue(.flows) }
            group.addTask {
                // Referenced Secrets are read by GET, not watched (no cluster-wide Secret
                // watch): they are checked this often, and a change re-renders and reloads.
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.options.credentialsInterval)
                    if await self.credentialsChanged() { await self.controller.enqueue(.render) }
                }
            }
            if let settings = options.webhook {
                group.addTask { await self.controller.enqueue(.webhook) }
                group.addTask { await self.serveWebhook(settings) }
            }
            if let address = options.healthAddress {
                group.addTask {
                    do {
                        let server = HealthServer(
                            readiness: {
                                let (ready, leading, problems) = await self.readiness()
                                let state = ready ? "ready" : problems.isEmpty ? "not ready: waiting for the first list of every watched kind" : "not ready: " + problems.joined(separator: "; ")
                                return (ready, "\(state)\nleader: \(leading)\n")
                            },
                            metrics: {
                                await self.updateScrapeTimeMetrics()
                                return self.metrics.registry.emitToBuffer()
                            })
                        try await server.run(host: address.host, port: address.port, logger: self.logger)
                    } catch {
                        self.logger.error("health and metrics server stopped", metadata: ["error": "\(error)"])
                    }
                }
            }
            group.addTask {
                // One worker: full renders, pod updates and status writes share `live` in turn.
                await self.controller.run(workers: 1) { work in
                    let started = ContinuousClock.now
                    self.metrics.reconciles.increment()
                    defer { self.metrics.reconcileDuration.record(ContinuousClock.now - started) }
                    do {
                        return try await self.reconcile(work)
                    } catch {
                        self.metrics.reconcileErrors.increment()
                        throw error
                    }
                }
            }
        }
    }

    /// Whether a kind is watched: always for `watchedResources`, for an optional kind once the
    /// check at start found it served, for a dependent kind once the kind needing it was.
    func isWatched(_ resource: APIResource) -> Bool {
        if Self.watchedResources.contains(resource) { return true }
        let needed = Self.dependentResources.first { $0.resource == resource }?.neededBy ?? resource
        return servedOptional.withLock { $0?.contains(needed) ?? false }
    }

    /// The reflectors of the watched kinds (empty until the optional kinds were checked).
    var reflectors: [Reflector<Node, ContinuousClock>] {
        guard servedOptional.withLock({ $0 != nil }) else { return [] }
        return allReflectors.filter { isWatched($0.resource) }.map(\.reflector)
    }

    /// Whether the API server serves `resource` (a one-item list): nil when it cannot tell
    /// (API server down, 5xx); 404 means its CRD is not installed.
    func isServed(_ resource: APIResource) async -> Bool? {
        do {
            _ = try await client.list(Node.self, resource, options: ListOptions(limit: 1))
            return true
        } catch let error as APIError where error.isNotFound {
            return false
        } catch {
            logger.warning("cannot check whether a resource is served", metadata: ["kube.resource": "\(resource)", "error": "\(error)"])
            return nil
        }
    }

    /// One pass over the optional kinds: a kind that cannot be checked keeps its `previous` state.
    func probeOptionalResourcesOnce(previous: Set<APIResource>) async -> Set<APIResource> {
        var served = previous
        for resource in Self.optionalResources {
            switch await isServed(resource) {
            case true?: served.insert(resource)
            case false?: served.remove(resource)
            case nil: continue
            }
        }
        return served
    }

    /// Asks once per optional kind whether it is served, retrying a kind that cannot be checked
    /// yet, so a slow start does not silently drop prometheus-operator's resources.
    func probeOptionalResources() async -> Set<APIResource> {
        var served: Set<APIResource> = []
        for resource in Self.optionalResources {
            var delay = Duration.milliseconds(500)
            while !Task.isCancelled {
                guard let answer = await isServed(resource) else {
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(30))
                    continue
                }
                if answer {
                    served.insert(resource)
                    logger.info("watching prometheus-operator resources", metadata: ["kube.resource": "\(resource)"])
                } else {
                    logger.info("prometheus-operator resource not served; watched once its CRD is installed", metadata: ["kube.resource": "\(resource)"])
                }
                break
            }
        }
        return served
    }

    /// Ready once every watched kind was listed and none keeps failing to sync; `problems`
    /// names the kinds that do.
    func readiness() async -> (ready: Bool, leading: Bool, problems: [String]) {
        var ready = servedOptional.withLock { $0 != nil }
        var problems: [String] = []
        for reflector in reflectors {
            if !(await reflector.snapshot().isReady) { ready = false }
            if let problem = await reflector.syncProblem { problems.append(problem) }
        }
        if !(await pods.snapshot().isReady) { ready = false }
        if let problem = await pods.syncProblem { problems.append(problem) }
        let leading = await lease?.isLeader ?? true
        return (ready && problems.isEmpty, leading, problems)
    }

    /// Gauges read from the actors when Prometheus scrapes.
    func updateScrapeTimeMetrics() async {
        for (resource, reflector) in allReflectors where isWatched(resource) {
            metrics.cached(resource.description).set(to: Double(await reflector.snapshot().count))
            metrics.relists(resource.description).set(to: Double(await reflector.relists))
            metrics.watchRestarts(resource.description).set(to: Double(await reflector.watchRestarts))
        }
        metrics.cached("pods").set(to: Double(await pods.snapshot().count))
        metrics.relists("pods").set(to: Double(await pods.relists))
        metrics.watchRestarts("pods").set(to: Double(await pods.watchRestarts))
        metrics.queueDepth.set(to: Double(await controller.depth))
        metrics.leading.set(to: await lease?.isLeader ?? true ? 1 : 0)
    }

    /// A stack with errors renders nothing; it keeps its last good files instead of losing them.
    func keepLastGoodOutput(of stackKeys: [String], in result: inout RenderResult) {
        for key in stackKeys {
            let invalid = result.diagnostics.contains {
                $0.severity == .error && $0.object?.kind == "MonitoringStack" && "\($0.object?.namespace ?? "")/\($0.object?.name ?? "")" == key
            }
            let mine = result.artifacts.filter { $0.path.hasPrefix(key + "/") }
            if invalid && mine.isEmpty {
                result.artifacts += lastGood.withLock { $0[key] } ?? []
            } else if !invalid {
                lastGood.withLock { $0[key] = mine }
            }
        }
        result.artifacts.sort { $0.path < $1.path }
    }

    /// Keeps the last good output of valid stacks current under incremental updates.
    func updateLastGood(with changed: [Artifact]) {
        lastGood.withLock { lastGood in
            for artifact in changed {
                let key = artifact.path.split(separator: "/").prefix(2).joined(separator: "/")
                guard let index = lastGood[key]?.firstIndex(where: { $0.path == artifact.path }) else { continue }
                lastGood[key]?[index] = artifact
            }
        }
    }

    struct ReloadFailed: Error, CustomStringConvertible {
        var description: String { "a Prometheus reload failed; retrying with backoff" }
    }

    /// Reloads every stack with a pending change and a reload URL; true when one failed.
    func reloadPending(_ stacks: [String: Node]) async -> Bool {
        let pending = reloads.withLock { $0.pending }
        var failed = false
        for key in pending.sorted() {
            guard let stack = stacks[key] else {
                reloads.withLock { _ = $0.pending.remove(key) }
                continue
            }
            guard let url = stack["spec"]?["prometheus"]?["reload"]?["url"]?.string else {
                reloads.withLock { _ = $0.pending.remove(key) }  // no reload configured (e.g. --config.auto-reload)
                continue
            }
            var outcome = await reloader.reload(url)
            outcome.time = options.wallClock.timestamp
            logger.info("prometheus reload", metadata: ["reload.stack": "\(key)", "reload.succeeded": "\(outcome.succeeded)", "reload.message": "\(outcome.message)"])
            (outcome.succeeded ? metrics.reloadsSucceeded : metrics.reloadsFailed).increment()
            reloads.withLock { state in
                state.outcomes[key] = outcome
                if outcome.succeeded { state.pending.remove(key) }
            }
            if !outcome.succeeded { failed = true }
        }
        return failed
    }
}

extension NetwatchOperator {
    func trackNamespaceLabels(_ batch: [StoreChange<Node>]) {
        namespaceLabels.withLock { labels in
            for change in batch {
                switch change {
                case .added(let node), .updated(_, let node):
                    if let name = node["metadata"]?["name"]?.string { labels[name] = node["metadata"]?["labels"]?.stringValues ?? [:] }
                case .deleted(let node):
                    if let name = node["metadata"]?["name"]?.string { labels[name] = nil }
                }
            }
        }
    }
}
