public import KubeClient
public import Logging

/// Drives a `Watcher` against the API server and keeps an `ObjectStore` current: the thin
/// async shell around the two state machines. Time comes from the injected clock.
///
/// Guarantees: `changes` yields every batch of store changes in order (the reconcile
/// triggers); `snapshot()` returns a consistent store; `waitUntilReady()` returns after the
/// first complete list. `run()` loops until its task is cancelled and never throws: API and
/// transport errors are retried as the watcher decides.
public actor Reflector<Object: Decodable & Sendable, C: Clock> where C.Duration == Duration {
    private let client: KubeClient
    private let resource: APIResource
    private let namespace: String?
    private let labelSelector: String?
    private let clock: C
    private let start: C.Instant
    private let logger: Logger
    private var watcher: Watcher<Object>
    private let resourceVersionOf: @Sendable (Object) -> String?
    private var store: ObjectStore<Object>
    private var readyWaiters: [CheckedContinuation<Void, Never>] = []
    private let continuation: AsyncStream<[StoreChange<Object>]>.Continuation
    /// Every change the store makes visible, batch by batch.
    public nonisolated let changes: AsyncStream<[StoreChange<Object>]>
    /// Server-side watch timeout: each watch asks for a random time between this and twice it
    /// (client-go: 5 to 10 minutes), so a stream that went silently stale is renewed and the
    /// watches of many clients do not end together.
    public var watchTimeoutSeconds = 300

    public init(
        client: KubeClient, resource: APIResource, namespace: String? = nil, labelSelector: String? = nil,
        clock: C, logger: Logger,
        key: @escaping @Sendable (Object) -> String, resourceVersion: @escaping @Sendable (Object) -> String?
    ) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.clock = clock
        start = clock.now
        self.logger = logger
        watcher = Watcher(resourceVersion: resourceVersion)
        watcher.resource = resource
        resourceVersionOf = resourceVersion
        store = ObjectStore(key: key, version: resourceVersion)
        (changes, continuation) = AsyncStream.makeStream()
    }

    public func snapshot() -> ObjectStore<Object> { store }

    public func setWatchTimeout(_ seconds: Int) { watchTimeoutSeconds = seconds }

    public func waitUntilReady() async {
        if store.isReady { return }
        await withCheckedContinuation { readyWaiters.append($0) }
    }

    public var relists: Int { watcher.relists }
    /// Why the kind is not in sync: set after three lists or watches in a row failed, cleared by
    /// the next success.
    public var syncProblem: String? {
        watcher.consecutiveFailures >= 3 ? "\(resource) cannot sync (\(watcher.consecutiveFailures) failures in a row): \(lastError ?? "")" : nil
    }
    private var lastError: String?
    public var watchRestarts: Int { watcher.watchRestarts }
    /// Batches yielded on `changes` so far: a consumer that counts what it handled can tell
    /// when it has caught up.
    public private(set) var batchesDelivered = 0

    /// Forgets where the watch stood, so the next `run` starts with a list whose result
    /// replaces the store (reporting what vanished meanwhile as deletions): for a kind that was
    /// not watched for a while, e.g. its CRD removed and installed again.
    public func relistOnNextRun() {
        let kind = watcher.resource
        watcher = Watcher(resourceVersion: resourceVersionOf)
        watcher.resource = kind
    }

    /// Runs until cancelled. `finishingChanges` false keeps `changes` open, so the reflector
    /// can run again later and its consumer keeps reading the same stream.
    public func run(finishingChanges: Bool = true) async {
        while !Task.isCancelled {
            let now = instant()
            switch watcher.nextStep(now: now) {
            case .wait(let until, _):
                try? await clock.sleep(until: start.advanced(by: until.sinceOrigin), tolerance: nil)
            case .list(let version):
                do {
                    let list = try await client.listAll(Object.self, resource, namespace: namespace, options: ListOptions(labelSelector: labelSelector, resourceVersion: version.isEmpty ? nil : version))
                    apply(watcher.listed(list.items, resourceVersion: list.resourceVersion, now: instant()))
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("list failed; retrying", metadata: ["kube.resource": "\(resource)", "error": "\(error)"])
                    lastError = "\(error)"
                    watcher.listFailed(error, now: instant(), unit: Double.random(in: 0...1))
                }
            case .watch(let version):
                await watch(from: version)
            }
        }
        if finishingChanges { continuation.finish() }
    }

    private func watch(from version: String) async {
        do {
            let stream = try await client.watch(Object.self, resource, namespace: namespace, options: WatchOptions(resourceVersion: version, labelSelector: labelSelector, timeoutSeconds: Int.random(in: watchTimeoutSeconds...(2 * watchTimeoutSeconds))))
            watcher.watchStarted(now: instant())
            for try await event in stream {
                if case .unreadable(let object, _) = event {
                    logger.error("an object the API server sent cannot be read; it is skipped until it changes", metadata: [
                        "kube.resource": "\(resource)", "kube.object": "\(object)", "error": "\(object.problem)",
                    ])
                }
                apply(watcher.received(event, now: instant()))
                if watcher.mustRelist {
                    logger.info("the server's history went backwards; relisting", metadata: ["kube.resource": "\(resource)", "watch.resource_version": "\(version)"])
                    stream.close()
                    return
                }
            }
            watcher.watchEnded(now: instant(), unit: Double.random(in: 0...1))
        } catch {
            if Task.isCancelled { return }
            logger.info("watch ended with an error", metadata: ["kube.resource": "\(resource)", "watch.resource_version": "\(version)", "error": "\(error)"])
            lastError = "\(error)"
            watcher.watchFailed(error, now: instant(), unit: Double.random(in: 0...1))
        }
    }

    private func apply(_ events: [WatcherEvent<Object>]) {
        var batch: [StoreChange<Object>] = []
        for event in events { batch += store.apply(event) }
        if !batch.isEmpty {
            batchesDelivered += 1
            continuation.yield(batch)
        }
        if store.isReady && !readyWaiters.isEmpty {
            for waiter in readyWaiters { waiter.resume() }
            readyWaiters = []
        }
    }

    private func instant() -> RuntimeInstant { RuntimeInstant(start.duration(to: clock.now)) }
}
