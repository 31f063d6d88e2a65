import ConfigGen
import DataTree
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import NetWatchAPI
import Synchronization

/// The operator's view of the cluster: one reflector per watched kind, kept current by its
/// watch, and what the reconcilers read from them.
///
/// Guarantees: `isSynced` is false until every watched kind has completed its first list (a
/// partial view would prune output that should stay); prometheus-operator's kinds are watched
/// exactly while the API server serves them, checked at start and every
/// `optionalKindsInterval`; EndpointSlices only while ServiceMonitors are served; Ingresses
/// only while a cached probe asks for Ingress targets. Reconcilers share the stores and never
/// write to them.
final class ClusterCache: Sendable {
    /// The kinds render reads, watched in all namespaces. Pods are watched separately, decoded
    /// straight into the `Pod` projection (the bulk of the cache; ~1.5 KB each).
    static let watchedResources: [APIResource] = [
        .namespaces, .services,
        APIResource(group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true),
        APIResource(group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet", namespaced: true),
        APIResource(group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet", namespaced: true),
    ] + NetWatchKind.allCases.map(\.resource)

    /// prometheus-operator's kinds, watched only while their CRDs are served.
    static let optionalResources: [APIResource] = PrometheusOperatorKind.allCases.map {
        APIResource(group: PrometheusOperatorKind.group, version: PrometheusOperatorKind.version, resource: $0.plural, kind: $0.rawValue, namespaced: true)
    }

    /// Kinds watched only when another kind is served: EndpointSlices matter to ServiceMonitors
    /// alone (static discovery resolves them), so a cluster without prometheus-operator's CRDs
    /// never caches them.
    static let dependentResources: [(resource: APIResource, neededBy: APIResource)] = [
        (.endpointSlices, optionalResources.first { $0.kind == PrometheusOperatorKind.serviceMonitor.rawValue }!),
    ]

    /// A kind watched only while some cached object asks for it.
    struct Demand: Sendable {
        let resource: APIResource
        /// The kinds whose objects may ask for it, and whether an object of that kind does.
        let askers: [String: @Sendable (Node) -> Bool]
    }

    /// Ingresses matter only to probes of Ingress hosts (a prometheus-operator Probe's
    /// `ingress` is read only without a `staticConfig`); most clusters' probes never ask.
    /// Nodes and EndpointSlices matter to a stack's cluster targets under static discovery
    /// (the kubelet and cAdvisor per Node, the API server's EndpointSlices).
    static let demandedResources: [Demand] = [
        Demand(resource: .ingresses, askers: [
            NetWatchKind.networkProbe.rawValue: { $0["spec"]?["targets"]?["ingresses"] != nil },
            PrometheusOperatorKind.probe.rawValue: { $0["spec"]?["targets"]?["ingress"] != nil && $0["spec"]?["targets"]?["staticConfig"] == nil },
        ]),
        Demand(resource: .nodes, askers: [
            NetWatchKind.monitoringStack.rawValue: { staticClusterTargets($0, ["kubelet", "cadvisor"]) },
        ]),
        Demand(resource: .endpointSlices, askers: [
            NetWatchKind.monitoringStack.rawValue: { staticClusterTargets($0, ["apiServer"]) },
        ]),
    ]

    /// Whether a MonitoringStack under static discovery asks for any of these cluster targets.
    static func staticClusterTargets(_ stack: Node, _ targets: [String]) -> Bool {
        guard stack["spec"]?["prometheus"]?["discovery"]?.string == "static" else { return false }
        return targets.contains { stack["spec"]?["clusterTargets"]?[$0] == .bool(true) }
    }

    /// What a batch of store changes of a kind is handed to.
    typealias ChangeHandler = @Sendable ([StoreChange<Node>], APIResource) async -> Void

    let client: KubeClient
    let logger: Logger
    let watchTimeoutSeconds: Int
    let optionalKindsInterval: Duration
    /// One reflector per kind of `watchedResources`, `optionalResources`,
    /// `dependentResources` and `demandedResources`, in that order, each kind once.
    let allReflectors: [(resource: APIResource, reflector: Reflector<Node, ContinuousClock>)]
    let pods: Reflector<Pod, ContinuousClock>
    /// Which optional kinds the API server serves; nil until checked (not synced before).
    private let servedOptional = Mutex<Set<APIResource>?>(nil)
    /// The running watches of optional and dependent kinds.
    private let optionalWatches = Mutex<[APIResource: Task<Void, Never>]>([:])
    /// The demanded kinds some cached object asks for now.
    private let demanded = Mutex<Set<APIResource>>([])
    /// Batches of changes handed to the handlers and returned from them, per kind.
    private let batchesHandled = Mutex<[APIResource: Int]>([:])

    init(client: KubeClient, logger: Logger, watchTimeoutSeconds: Int, optionalKindsInterval: Duration) {
        self.client = client
        self.logger = logger
        self.watchTimeoutSeconds = watchTimeoutSeconds
        self.optionalKindsInterval = optionalKindsInterval
        let clock = ContinuousClock()
        pods = Reflector<Pod, ContinuousClock>(
            client: client, resource: .pods, clock: clock, logger: logger,
            key: { "\($0.metadata.namespace ?? "")/\($0.metadata.name)" }, resourceVersion: { $0.metadata.resourceVersion })
        var resources: [APIResource] = []
        // EndpointSlices are both dependent and demanded: one reflector.
        for resource in Self.watchedResources + Self.optionalResources + Self.dependentResources.map(\.resource) + Self.demandedResources.map(\.resource)
        where !resources.contains(resource) {
            resources.append(resource)
        }
        allReflectors = resources.map { resource in
            (resource, Reflector<Node, ContinuousClock>(
                client: client, resource: resource, clock: clock, logger: logger,
                key: { "\($0["metadata"]?["namespace"]?.string ?? "")/\($0["metadata"]?["name"]?.string ?? "")" },
                resourceVersion: { $0["metadata"]?["resourceVersion"]?.string }))
        }
    }

    // MARK: reading

    /// Whether a kind is watched: always for `watchedResources`, for an optional kind while it
    /// is served, for a dependent kind while the kind needing it is, for a demanded kind while
    /// an object asks for it.
    func isWatched(_ resource: APIResource) -> Bool {
        if Self.watchedResources.contains(resource) { return true }
        if Self.demandedResources.contains(where: { $0.resource == resource }), demanded.withLock({ $0.contains(resource) }) { return true }
        if let dependent = Self.dependentResources.first(where: { $0.resource == resource }) {
            return servedOptional.withLock { $0?.contains(dependent.neededBy) ?? false }
        }
        return servedOptional.withLock { $0?.contains(resource) ?? false }
    }

    /// The reflectors of the watched kinds (empty until the optional kinds were checked).
    var reflectors: [Reflector<Node, ContinuousClock>] {
        guard servedOptional.withLock({ $0 != nil }) else { return [] }
        return allReflectors.filter { isWatched($0.resource) }.map(\.reflector)
    }

    func reflector(for resource: APIResource) -> Reflector<Node, ContinuousClock>? {
        allReflectors.first { $0.resource == resource }?.reflector
    }

    /// Whether every watched kind has completed its first list.
    func isSynced() async -> Bool {
        guard servedOptional.withLock({ $0 != nil }) else { return false }
        for reflector in reflectors where !(await reflector.snapshot().isReady) { return false }
        return await pods.snapshot().isReady
    }

    /// The stored objects of one kind, by reference.
    func objects(of resource: APIResource) async -> [ObjectReference: Node] {
        guard isWatched(resource), let reflector = reflector(for: resource) else { return [:] }
        var objects: [ObjectReference: Node] = [:]
        for (_, node) in await reflector.snapshot().objects {
            objects[ObjectReference(stored: node, kind: resource.kind)] = node
        }
        return objects
    }

    /// The snapshot render reads, decoded from every watched store and the pod store (pods
    /// without a namespace get `default`); `visit` sees each stored object.
    func snapshot(_ visit: (Node) -> Void = { _ in }) async -> (Snapshot, [Diagnostic]) {
        var raw: [RawObject] = []
        for reflector in reflectors {
            let store = await reflector.snapshot()
            for key in store.objects.keys.sorted() {
                guard let node = store[key] else { continue }
                raw += ObjectReader.rawObjects(from: node, source: nil).0
                visit(node)
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

    /// Ready once every watched kind was listed and none keeps failing to sync; `problems`
    /// names the kinds that do.
    func readiness() async -> (ready: Bool, problems: [String]) {
        var ready = servedOptional.withLock { $0 != nil }
        var problems: [String] = []
        for reflector in reflectors {
            if !(await reflector.snapshot().isReady) { ready = false }
            if let problem = await reflector.syncProblem { problems.append(problem) }
        }
        if !(await pods.snapshot().isReady) { ready = false }
        if let problem = await pods.syncProblem { problems.append(problem) }
        return (ready && problems.isEmpty, problems)
    }

    /// Cached objects, relists and watch restarts per kind, for the operator's metrics.
    func statistics() async -> [(kind: String, cached: Int, relists: Int, watchRestarts: Int)] {
        var rows: [(String, Int, Int, Int)] = []
        for (resource, reflector) in allReflectors where isWatched(resource) {
            rows.append((resource.description, await reflector.snapshot().count, await reflector.relists, await reflector.watchRestarts))
        }
        rows.append(("pods", await pods.snapshot().count, await pods.relists, await pods.watchRestarts))
        return rows
    }

    /// Whether every batch of changes the watches delivered has been handled: with the changed
    /// object in the store, the reconcilers have been asked for what it implies.
    func hasHandledEverything() async -> Bool {
        let handled = batchesHandled.withLock { $0 }
        for (resource, reflector) in allReflectors where await reflector.batchesDelivered != handled[resource, default: 0] { return false }
        return await pods.batchesDelivered == handled[.pods, default: 0]
    }

    /// The resourceVersion of an object as the store holds it (nil: not cached).
    func cachedResourceVersion(_ resource: APIResource, namespace: String?, name: String) async -> String? {
        if resource == .pods {
            return await pods.snapshot()["\(namespace ?? "")/\(name)"]?.metadata.resourceVersion
        }
        return await reflector(for: resource)?.snapshot()["\(namespace ?? "")/\(name)"]?["metadata"]?["resourceVersion"]?.string
    }

    private func handled(_ resource: APIResource, _ body: () async -> Void) async {
        await body()
        batchesHandled.withLock { $0[resource, default: 0] += 1 }
    }

    // MARK: watching

    /// Runs every watch until the task is cancelled, handing each batch of changes to
    /// `handle` (pods to `handlePods`); `optionalKindsChanged` is called when
    /// prometheus-operator's CRDs come or go.
    func run(handle: @escaping ChangeHandler, handlePods: @escaping @Sendable ([StoreChange<Pod>]) async -> Void,
             optionalKindsChanged: @escaping @Sendable () async -> Void) async {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    let served = await self.probeOptionalResources()
                    self.servedOptional.withLock { $0 = served }
                    self.reconcileOptionalWatches(handle)
                    await withTaskGroup(of: Void.self) { reflectors in
                        for (resource, reflector) in self.allReflectors where Self.watchedResources.contains(resource) {
                            reflectors.addTask {
                                await reflector.setWatchTimeout(self.watchTimeoutSeconds)
                                await reflector.run()
                            }
                            reflectors.addTask {
                                for await batch in reflector.changes {
                                    // Before the batch is handled, so no render sees the asking object without the kind it asks for.
                                    await self.reconcileDemand(after: resource, handle)
                                    await self.handled(resource) { await handle(batch, resource) }
                                }
                            }
                        }
                        reflectors.addTask { await self.superviseOptionalKinds(handle, changed: optionalKindsChanged) }
                    }
                }
                group.addTask {
                    await self.pods.setWatchTimeout(self.watchTimeoutSeconds)
                    await self.pods.run()
                }
                group.addTask {
                    for await batch in self.pods.changes { await self.handled(.pods) { await handlePods(batch) } }
                }
            }
        } onCancel: {
            optionalWatches.withLock { watches in
                for task in watches.values { task.cancel() }
                watches = [:]
            }
        }
    }

    /// Starts the watch of an optional or dependent kind (from a list) unless it runs.
    private func startWatching(_ resource: APIResource, _ reflector: Reflector<Node, ContinuousClock>, _ handle: @escaping ChangeHandler) {
        optionalWatches.withLock { watches in
            guard watches[resource] == nil else { return }
            watches[resource] = Task {
                await reflector.relistOnNextRun()
                await reflector.setWatchTimeout(self.watchTimeoutSeconds)
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await reflector.run(finishingChanges: false) }
                    group.addTask {
                        for await batch in reflector.changes {
                            await self.reconcileDemand(after: resource, handle)
                            await self.handled(resource) { await handle(batch, resource) }
                        }
                    }
                }
            }
        }
    }

    /// Starts and stops the watches of optional and dependent kinds to match what is served.
    private func reconcileOptionalWatches(_ handle: @escaping ChangeHandler) {
        for (resource, reflector) in allReflectors where !Self.watchedResources.contains(resource) {
            let isDemanded = Self.demandedResources.contains { $0.resource == resource }
            if isWatched(resource) {
                if isDemanded && optionalWatches.withLock({ $0[resource] == nil }) {
                    logger.info("watching: a cached object asks for it", metadata: ["kube.resource": "\(resource)"])
                }
                startWatching(resource, reflector, handle)
            } else if let task = optionalWatches.withLock({ $0.removeValue(forKey: resource) }) {
                task.cancel()
                logger.info(isDemanded ? "stopped watching: no cached object asks for it any more" : "stopped watching: the API server no longer serves it",
                            metadata: ["kube.resource": "\(resource)"])
            }
        }
    }

    /// Recomputes which demanded kinds are asked for after a batch of `resource` (every kind
    /// when nil) and starts or stops their watches.
    private func reconcileDemand(after resource: APIResource?, _ handle: @escaping ChangeHandler) async {
        let demands = Self.demandedResources.filter { demand in resource.map { demand.askers[$0.kind] != nil } ?? true }
        guard !demands.isEmpty else { return }
        var wanted = demanded.withLock { $0 }
        for demand in demands {
            var asked = false
            for (asking, reflector) in allReflectors where isWatched(asking) {
                guard let asks = demand.askers[asking.kind] else { continue }
                if await reflector.snapshot().objects.values.contains(where: asks) {
                    asked = true
                    break
                }
            }
            if asked { wanted.insert(demand.resource) } else { wanted.remove(demand.resource) }
        }
        let changed = demanded.withLock { current in
            defer { current = wanted }
            return current != wanted
        }
        if changed { reconcileOptionalWatches(handle) }
    }

    /// Asks again every `optionalKindsInterval` which optional kinds are served; a change starts
    /// or stops their watches and calls `changed`.
    private func superviseOptionalKinds(_ handle: @escaping ChangeHandler, changed: @Sendable () async -> Void) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: optionalKindsInterval)
            if Task.isCancelled { return }
            let before = servedOptional.withLock { $0 } ?? []
            let now = await probeOptionalResourcesOnce(previous: before)
            guard now != before else { continue }
            for resource in now.subtracting(before) {
                logger.info("watching prometheus-operator resources: their CRD is installed", metadata: ["kube.resource": "\(resource)"])
            }
            servedOptional.withLock { $0 = now }
            reconcileOptionalWatches(handle)
            await reconcileDemand(after: nil, handle)
            await changed()
        }
    }

    /// Whether the API server serves `resource` (a one-item list): nil when it cannot tell
    /// (API server down, 5xx); 404 means its CRD is not installed.
    private func isServed(_ resource: APIResource) async -> Bool? {
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
    private func probeOptionalResourcesOnce(previous: Set<APIResource>) async -> Set<APIResource> {
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
    private func probeOptionalResources() async -> Set<APIResource> {
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
}

extension ObjectReference {
    /// The reference of an object as stored (a namespaced kind without a namespace is in
    /// `default`, as the API server puts it).
    init(stored node: Node, kind: String) {
        let metadata = node["metadata"]
        self.init(kind: kind, namespace: metadata?["namespace"]?.string, name: metadata?["name"]?.string ?? "")
    }
}

extension NetWatchKind {
    /// The API resource of the kind.
    var resource: APIResource {
        APIResource(group: Self.group, version: Self.version, resource: plural, kind: rawValue, namespaced: isNamespaced)
    }
}
