public import ConfigGen
import DataTree
public import KubeClient
import KubeModel
public import KubeRuntime
public import Logging
import Prometheus
import Synchronization
import NetWatchAPI
public import ServiceLifecycle
import CAllocator

/// `netwatch operator`: watches the objects `render` reads, and keeps the rendered output in
/// step with the cluster.
///
/// The operator is a composition of focused parts (docs/architecture.md draws them):
/// - `ClusterCache` — one reflector per watched kind; the only place watches run.
/// - `StackReconciler` — MonitoringStacks' output, reloads and status.
/// - `WebhookReconciler` — the sidecar-injection webhook (with `options.webhook`).
/// - `FlowPolicyReconciler` — FlowPolicies' sources, plans and learned NetworkPolicies.
/// - `StatusWriter` and `EventRecorder` — status and Events, shared by the reconcilers.
/// This type routes each batch of watch changes to the reconciler it concerns and runs them.
///
/// Guarantees: nothing is rendered until every watched kind has completed its first list; a
/// change to any watched object except a pod, a SidecarInjector or a FlowPolicy requests one
/// coalesced full render; pod changes are applied incrementally; updates of status alone
/// never re-render; unchanged output is not rewritten. With leader election, only the leader
/// writes.
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

    /// What the operator renders in a cluster: `netwatch render`'s output without injection
    /// patches (the webhook injects) or flow-file policies (FlowPolicies are planned live).
    public static var renderOptions: RenderOptions { StackReconciler.renderOptions }

    /// The operator's own metrics.
    public let metrics: OperatorMetrics
    let context: OperatorContext
    let stacks: StackReconciler
    let webhook: WebhookReconciler?
    let flows: FlowPolicyReconciler

    /// `transport` carries the reload POSTs and the checks of Prometheus's own metrics.
    public init(client: KubeClient, options: Options, logger: Logger, transport: any HTTPTransport) {
        // List bodies and render buffers are large and short-lived: keep them out of the heap.
        callocator_fix_mmap_threshold(256 * 1024)
        metrics = OperatorMetrics()
        let lease = options.leaseNamespace.map {
            LeaseLock(client: client, namespace: $0, name: "netwatch-operator", elector: LeaderElector(identity: options.identity),
                      clock: ContinuousClock(), wallClock: options.wallClock, logger: logger)
        }
        let context = OperatorContext(
            client: client, options: options, logger: logger, metrics: metrics,
            cache: ClusterCache(client: client, logger: logger, watchTimeoutSeconds: options.watchTimeoutSeconds, optionalKindsInterval: options.optionalKindsInterval),
            lease: lease, status: StatusWriter(client: client),
            events: EventRecorder(client: client, logger: logger, identity: options.identity, wallClock: options.wallClock))
        self.context = context
        stacks = StackReconciler(context: context, transport: transport)
        webhook = options.webhook.map { WebhookReconciler(context: context, settings: $0) }
        flows = FlowPolicyReconciler(context: context, transport: transport)
    }

    /// Runs until the calling task is cancelled or, inside a swift-service-lifecycle
    /// `ServiceGroup`, a graceful shutdown begins (SIGTERM); the lease is released either way.
    public func run() async {
        await cancelWhenGracefulShutdown { await self.runUntilCancelled() }
    }

    private func runUntilCancelled() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.context.cache.run(
                    handle: { batch, resource in await self.route(batch, of: resource) },
                    handlePods: { batch in await self.stacks.receive(batch) },
                    optionalKindsChanged: { await self.stacks.controller.enqueue(.renderAll) })
            }
            if let lease = context.lease {
                group.addTask { await lease.run() }
            }
            group.addTask {
                // Referenced Secrets are read by GET, not watched (no cluster-wide Secret
                // watch): they are checked this often, and a change re-renders and reloads.
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.context.options.credentialsInterval)
                    if await self.stacks.credentialsChanged() { await self.stacks.controller.enqueue(.renderAll) }
                }
            }
            group.addTask { await self.context.run(self.stacks.controller, self.stacks.reconcile) }
            group.addTask {
                await self.flows.controller.enqueue(.allFlowPolicies)
                await self.context.run(self.flows.controller) { _ in try await self.flows.reconcile() }
            }
            if let webhook {
                group.addTask {
                    await webhook.controller.enqueue(.webhook)
                    await self.context.run(webhook.controller) { _ in try await webhook.reconcile() }
                }
                group.addTask { await webhook.serve() }
            }
            if let address = context.options.healthAddress {
                group.addTask { await self.serveHealth(address) }
            }
        }
    }

    /// Whether the operator has caught up with what it was told: every watched kind is listed,
    /// every change its watches delivered has been routed, and no reconciler has work running
    /// or due (work requeued for later does not count). With `cachedResourceVersion` it lets a
    /// test wait for "the operator has handled my change" instead of sleeping.
    public func isSettled() async -> Bool {
        guard await context.cache.isSynced(), await context.cache.hasHandledEverything() else { return false }
        guard await stacks.controller.isIdle, await flows.controller.isIdle else { return false }
        return await webhook?.controller.isIdle ?? true
    }

    /// The resourceVersion of an object in the operator's watch cache (nil: not cached).
    public func cachedResourceVersion(_ resource: APIResource, namespace: String?, name: String) async -> String? {
        await context.cache.cachedResourceVersion(resource, namespace: namespace, name: name)
    }

    /// Maps a batch of store changes to the reconciler it concerns: namespaces' labels to the
    /// webhook, SidecarInjectors to the webhook, FlowPolicies to the flow reconciler, anything
    /// else that can change the output to a full render of the stacks.
    func route(_ batch: [StoreChange<Node>], of resource: APIResource) async {
        if resource == .namespaces { webhook?.trackNamespaceLabels(batch) }
        guard let change = batch.first(where: Self.isSignificant) else { return }
        switch resource {
        case NetWatchKind.sidecarInjector.resource:
            await webhook?.controller.enqueue(.webhook)
        case NetWatchKind.flowPolicy.resource:
            await flows.controller.enqueue(.allFlowPolicies)
        default:
            context.logger.debug("change requests a full render", metadata: ["reconcile.trigger": "\(Self.describe(change))"])
            await stacks.controller.enqueue(.renderAll)
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
        return "\(verb) \(ObjectReference(stored: object, kind: object["kind"]?.string ?? ""))"
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

    private func serveHealth(_ address: (host: String, port: Int)) async {
        do {
            let server = HealthServer(
                readiness: {
                    let (ready, problems) = await self.context.cache.readiness()
                    let leading = await self.context.isLeading
                    let state = ready ? "ready" : problems.isEmpty ? "not ready: waiting for the first list of every watched kind" : "not ready: " + problems.joined(separator: "; ")
                    return (ready, "\(state)\nleader: \(leading)\n")
                },
                metrics: {
                    await self.updateScrapeTimeMetrics()
                    return self.metrics.registry.emitToBuffer()
                })
            try await server.run(host: address.host, port: address.port, logger: context.logger)
        } catch {
            context.logger.error("health and metrics server stopped", metadata: ["error": "\(error)"])
        }
    }

    /// Gauges read from the actors when Prometheus scrapes.
    private func updateScrapeTimeMetrics() async {
        for row in await context.cache.statistics() {
            metrics.cached(row.kind).set(to: Double(row.cached))
            metrics.relists(row.kind).set(to: Double(row.relists))
            metrics.watchRestarts(row.kind).set(to: Double(row.watchRestarts))
        }
        var depth = await stacks.controller.depth + (await flows.controller.depth)
        if let webhook { depth += await webhook.controller.depth }
        metrics.queueDepth.set(to: Double(depth))
        metrics.leading.set(to: await context.isLeading ? 1 : 0)
        // Only once a render says which namespaces the stacks' pod jobs look at.
        if let namespaces = stacks.live.withLock({ $0.map(\.podJobNamespaces) }) {
            metrics.podWorkloads.update(Array(await context.cache.pods.snapshot().objects.values), namespaces: namespaces)
        }
    }
}
