public import DataTree
import Foundation
import Synchronization
import YAML

/// The storage of the test API server: objects per resource, one monotonically increasing
/// revision, an event log bounded by a compaction window, and the open watches.
///
/// Guarantees: every write gets the next revision, which becomes its `resourceVersion`, and
/// is delivered to every matching watch in revision order; reads see a consistent state (one
/// lock); a resourceVersion older than the compaction window gets 410 Expired.
public final class ClusterState: Sendable {
    /// One stored object, serialized once; parsed again only when a request needs the tree.
    struct Stored: Sendable {
        var json: [UInt8]
        var labels: [String: String]
        var namespace: String?
        var name: String
        var revision: Int
        var managers: [String: ManagedFields] = [:]
        var node: Node { (try? YAMLParser(maxDepth: 10_000).parse(json, file: "stored").first?.node) ?? .null }
    }

    struct ManagedFields: Sendable {
        var operation: String
        var apiVersion: String
        var time: String
        var paths: Set<[String]>
    }

    struct ObjectKey: Hashable, Comparable, Sendable {
        var namespace: String
        var name: String
        static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
            (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
        }
    }

    struct Event: Sendable {
        var type: String
        var resourceKey: String
        var object: Stored
        var previousLabels: [String: String]?
    }

    struct Watcher: Sendable {
        var resourceKey: String
        var namespace: String?
        var labels: LabelSelectorQuery?
        var fields: FieldSelectorQuery?
        var continuation: AsyncStream<WatchMessage>.Continuation
    }

    enum WatchMessage: Sendable {
        case event(type: String, json: [UInt8])
        case bookmark(revision: Int)
    }

    struct Storage: Sendable {
        /// Set by `shutDown`: requests are refused from then on.
        var stopped = false
        var revision = 1
        var types: [String: ResourceType] = [:]
        var objects: [String: [ObjectKey: Stored]] = [:]
        var sortedKeys: [String: [ObjectKey]] = [:]
        var events: [Event] = []
        var eventStart = 0
        /// Revisions at or below this are no longer in the event log.
        var compactedRevision = 0
        var watchers: [Int: Watcher] = [:]
        var nextWatcherID = 0
        var faults = FaultInjection()
        var acceptedTokens: Set<String>? = nil
        var requests: [RecordedRequest] = []
    }

    let storage = Mutex(Storage())
    /// Events kept for watches that resume from a resourceVersion.
    public let eventWindow: Int

    public init(eventWindow: Int = 10_000) {
        self.eventWindow = eventWindow
        storage.withLock { storage in
            for type in ResourceType.builtIn { storage.types[type.key] = type }
        }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = create(typeKey: "namespaces", namespace: nil, body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]], manager: "netwatch-dev-apiserver")
        }
    }

    // MARK: configuration used by tests

    /// Replaces the fault-injection settings.
    public func setFaults(_ faults: FaultInjection) { storage.withLock { $0.faults = faults } }
    public func updateFaults(_ change: (inout FaultInjection) -> Void) { storage.withLock { change(&$0.faults) } }
    public var faults: FaultInjection { storage.withLock { $0.faults } }

    /// Bearer tokens the server accepts; nil accepts any request (also without a token).
    public func setAcceptedTokens(_ tokens: Set<String>?) { storage.withLock { $0.acceptedTokens = tokens } }

    /// Requests seen so far, in order.
    public var recordedRequests: [RecordedRequest] { storage.withLock { $0.requests } }

    /// Drops the whole event log: every older resourceVersion now gets 410 Expired.
    public func compact() {
        storage.withLock { storage in
            storage.compactedRevision = storage.revision
            storage.events = []
            storage.eventStart = 0
        }
    }

    public var currentRevision: Int { storage.withLock { $0.revision } }

    /// Waits until the revision reaches `revision` or `limit` passes; whether it did.
    func waitForRevision(_ revision: Int, upTo limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while currentRevision < revision {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Moves the revision counter forward to at least `revision` (never back), so that objects
    /// written later get resourceVersions above it.
    public func advanceRevision(atLeast revision: Int) {
        storage.withLock { $0.revision = max($0.revision, revision) }
    }

    /// Closes every open watch normally (as the API server does at its timeout).
    /// Refuses every request from now on and closes the open watches, as a terminating API
    /// server does; a client never stays connected to a server that is gone.
    func shutDown() {
        storage.withLock { $0.stopped = true }
        closeAllWatches()
    }

    var isStopped: Bool { storage.withLock { $0.stopped } }

    public func closeAllWatches() {
        let watchers = storage.withLock { storage -> [Watcher] in
            defer { storage.watchers = [:] }
            return Array(storage.watchers.values)
        }
        for watcher in watchers { watcher.continuation.finish() }
    }

    func resourceType(_ key: String) -> ResourceType? { storage.withLock { $0.types[key] } }
    var resourceTypes: [ResourceType] { storage.withLock { Array($0.types.values) } }

    /// Looks a resource up by group and plural name as it appears in a URL.
    func resourceType(group: String, version: String, resource: String) -> ResourceType? {
        let key = group.isEmpty ? resource : "\(resource).\(group)"
        guard let type = resourceType(key), type.versions.contains(version) else { return nil }
        return type
    }

    func record(_ request: RecordedRequest) { storage.withLock { $0.requests.append(request) } }

    func isAuthorized(token: String?) -> Bool {
        storage.withLock { storage in
            guard let accepted = storage.acceptedTokens else { return true }
            return token.map(accepted.contains) ?? false
        }
    }

    // MARK: reads

    func get(typeKey: String, namespace: String?, name: String) -> Stored? {
        storage.withLock { $0.objects[typeKey]?[ObjectKey(namespace: namespace ?? "", name: name)] }
    }

    /// The stored object as a tree, read without going through a client (for objects a client
    /// cannot decode); `typeKey` is `resource.group` ("networkmonitors.netwatch.dev").
    public func storedObject(typeKey: String, namespace: String?, name: String) -> Node? {
        get(typeKey: typeKey, namespace: namespace, name: name)?.node
    }

    struct ListResult {
        var items: [[UInt8]]
        var revision: Int
        var continueToken: String?
        var remaining: Int?
    }

    func list(typeKey: String, namespace: String?, labels: LabelSelectorQuery?, fields: FieldSelectorQuery?, limit: Int?, continueToken: String?, resourceVersion: String?) -> Result<ListResult, APIFailure> {
        storage.withLock { storage in
            var revision = storage.revision
            var startAfter: ObjectKey?
            if let continueToken, !continueToken.isEmpty {
                guard let token = ContinueToken(decoding: continueToken) else {
                    return .failure(APIFailure(code: 400, reason: "BadRequest", message: "continue key is not valid: illegal base64 data"))
                }
                if storage.faults.expireContinueTokens || token.revision < storage.compactedRevision {
                    var failure = APIFailure(code: 410, reason: "Expired", message: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
                    failure.continueToken = ContinueToken(revision: storage.revision, after: token.after).encoded
                    return .failure(failure)
                }
                revision = token.revision
                startAfter = token.after
            } else if let resourceVersion, let requested = Int(resourceVersion), requested != 0, requested < storage.compactedRevision {
                return .failure(APIFailure(code: 410, reason: "Expired", message: "too old resource version: \(requested) (\(storage.compactedRevision))"))
            }
            let keys = sortedKeys(&storage, typeKey)
            let objects = storage.objects[typeKey] ?? [:]
            var index = 0
            if let startAfter {
                var low = 0, high = keys.count
                while low < high {
                    let mid = (low + high) / 2
                    if keys[mid] <= startAfter { low = mid + 1 } else { high = mid }
                }
                index = low
            }
            var items: [[UInt8]] = []
            var last: ObjectKey?
            while index < keys.count {
                let key = keys[index]
                index += 1
                if let namespace, key.namespace != namespace { continue }
                guard let object = objects[key] else { continue }
                if let labels, !labels.matches(object.labels) { continue }
                if let fields, !fields.isEmpty, !fields.matches(object.node) { continue }
                items.append(object.json)
                last = key
                if let limit, limit > 0, items.count >= limit { break }
            }
            var token: String?
            var remaining: Int?
            if let last, index < keys.count, limit != nil {
                token = ContinueToken(revision: revision, after: last).encoded
                if labels == nil && (fields?.isEmpty ?? true) && namespace == nil { remaining = keys.count - index }
            }
            return .success(ListResult(items: items, revision: revision, continueToken: token, remaining: remaining))
        }
    }

    private func sortedKeys(_ storage: inout Storage, _ typeKey: String) -> [ObjectKey] {
        if let keys = storage.sortedKeys[typeKey] { return keys }
        let keys = (storage.objects[typeKey] ?? [:]).keys.sorted()
        storage.sortedKeys[typeKey] = keys
        return keys
    }

    // MARK: event log

    /// Records a change under the lock and hands it to matching watches.
    func publish(_ storage: inout Storage, _ event: Event) {
        storage.events.append(event)
        if storage.events.count - storage.eventStart > eventWindow {
            storage.compactedRevision = storage.events[storage.eventStart].object.revision
            storage.eventStart += 1
            if storage.eventStart > eventWindow {
                storage.events.removeFirst(storage.eventStart)
                storage.eventStart = 0
            }
        }
        for watcher in storage.watchers.values where watcher.resourceKey == event.resourceKey {
            if let type = Self.deliveredType(event, namespace: watcher.namespace, labels: watcher.labels, fields: watcher.fields) {
                watcher.continuation.yield(.event(type: type, json: event.object.json))
            }
        }
    }

    /// The type a watcher sees: label-filtered watches see an object that stops matching as
    /// DELETED and one that starts matching as ADDED, as the API server does.
    static func deliveredType(_ event: Event, namespace: String?, labels selector: LabelSelectorQuery?, fields: FieldSelectorQuery?) -> String? {
        if let namespace, event.object.namespace != namespace { return nil }
        func matches(_ labels: [String: String], _ checkFields: Bool) -> Bool {
            if let selector, !selector.matches(labels) { return false }
            if checkFields, let fields, !fields.isEmpty, !fields.matches(event.object.node) { return false }
            return true
        }
        let now = matches(event.object.labels, true)
        guard event.type == "MODIFIED", let previous = event.previousLabels, selector != nil else {
            return now ? event.type : nil
        }
        let before = matches(previous, false)
        switch (before, now) {
        case (true, true): return "MODIFIED"
        case (false, true): return "ADDED"
        case (true, false): return "DELETED"
        case (false, false): return nil
        }
    }
}

/// An error status the server answers with.
struct APIFailure: Error, Sendable {
    var code: Int
    var reason: String
    var message: String
    var causes: [(field: String, message: String, reason: String)] = []
    var continueToken: String?
    var retryAfter: Int?
    var details: (name: String?, kind: String?, group: String?)?

    init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    /// kube-apiserver's answer to a resourceVersion it has not reached.
    static func resourceVersionTooLarge(_ requested: Int, current: Int) -> APIFailure {
        var failure = APIFailure(code: 504, reason: "Timeout", message: "Timeout: Too large resource version: \(requested), current: \(current)")
        failure.causes = [("", "Too large resource version", "ResourceVersionTooLarge")]
        failure.retryAfter = 1
        return failure
    }

    static func notFound(_ type: ResourceType, _ name: String) -> APIFailure {
        var failure = APIFailure(code: 404, reason: "NotFound", message: "\(type.key) \"\(name)\" not found")
        failure.details = (name, type.resource, type.group)
        return failure
    }

    /// The `metav1.Status` body.
    var status: Node {
        var map = Mapping([("kind", "Status"), ("apiVersion", "v1")])
        var metadata = Mapping()
        if let continueToken { metadata["continue"] = .string(continueToken) }
        map["metadata"] = .mapping(metadata)
        map["status"] = "Failure"
        map["message"] = .string(message)
        map["reason"] = .string(reason)
        var detailMap = Mapping()
        if let details {
            if let name = details.name { detailMap["name"] = .string(name) }
            if let group = details.group { detailMap["group"] = .string(group) }
            if let kind = details.kind { detailMap["kind"] = .string(kind) }
        }
        if !causes.isEmpty {
            detailMap["causes"] = .sequence(causes.map { ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)] })
        }
        if let retryAfter { detailMap["retryAfterSeconds"] = .int(retryAfter) }
        if !detailMap.isEmpty { map["details"] = .mapping(detailMap) }
        map["code"] = .int(code)
        return .mapping(map)
    }
}

/// `base64(revision/namespace/name)`; opaque to clients.
struct ContinueToken {
    var revision: Int
    var after: ClusterState.ObjectKey

    init(revision: Int, after: ClusterState.ObjectKey) {
        self.revision = revision
        self.after = after
    }

    init?(decoding text: String) {
        guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8) else { return nil }
        let parts = decoded.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let revision = Int(parts[0]) else { return nil }
        self.revision = revision
        after = ClusterState.ObjectKey(namespace: String(parts[1]), name: String(parts[2]))
    }

    var encoded: String { Data("\(revision)/\(after.namespace)/\(after.name)".utf8).base64EncodedString() }
}

/// One request as the server saw it (for tests that check what a client sent).
public struct RecordedRequest: Sendable, Hashable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var contentType: String?
}
