/// A change the store made visible: what reconcilers are triggered by.
public enum StoreChange<Object: Sendable>: Sendable {
    case added(Object)
    /// Boxed, so a change is one object wide: a relist's batch of additions is not twice the
    /// size of the objects it carries.
    indirect case updated(old: Object, new: Object)
    case deleted(Object)
}

/// The cache of one resource kind, fed by a `Watcher` (kube-rs's reflector store, plus the
/// deletion diff of client-go's DeltaFIFO Replace).
///
/// Guarantees:
/// - Readers see the state before a relist or after it, never a mix: relisted objects are
///   buffered until `initDone` and swapped in at once.
/// - At the swap, objects that vanished while the watch was down are reported as deletions,
///   changed ones as updates (by resourceVersion), new ones as additions; unchanged objects
///   produce nothing, so a relist does not re-trigger the whole world.
/// - `isReady` turns true at the first `initDone` and stays true.
public struct ObjectStore<Object: Sendable>: Sendable {
    public private(set) var objects: [String: Object] = [:]
    public private(set) var isReady = false
    private var buffer: [String: Object]?
    private let key: @Sendable (Object) -> String
    private let version: @Sendable (Object) -> String?

    public init(key: @escaping @Sendable (Object) -> String, version: @escaping @Sendable (Object) -> String?) {
        self.key = key
        self.version = version
    }

    public subscript(key: String) -> Object? { objects[key] }
    public var count: Int { objects.count }

    /// Applies a watcher event; returns the changes readers can now see.
    public mutating func apply(_ event: WatcherEvent<Object>) -> [StoreChange<Object>] {
        switch event {
        case .initStart:
            buffer = [:]
            return []
        case .initApply(let items):
            if buffer == nil { buffer = [:] }
            for item in items { buffer?[key(item)] = item }
            return []
        case .initDone:
            let fresh = buffer ?? [:]
            buffer = nil
            var changes: [StoreChange<Object>] = []
            changes.reserveCapacity(fresh.count)
            // Keys are sorted, not (key, object) pairs: sorting pairs moves and retains whole
            // objects at every step of the sort (30 % of the operator's start at 100,000 pods).
            for itemKey in objects.keys.sorted() {
                guard let old = objects[itemKey] else { continue }
                if let new = fresh[itemKey] {
                    if version(new) != version(old) { changes.append(.updated(old: old, new: new)) }
                } else {
                    changes.append(.deleted(old))
                }
            }
            for itemKey in fresh.keys.sorted() where objects[itemKey] == nil {
                if let new = fresh[itemKey] { changes.append(.added(new)) }
            }
            objects = fresh
            isReady = true
            return changes
        case .apply(let object):
            let itemKey = key(object)
            let old = objects.updateValue(object, forKey: itemKey)
            return [old.map { .updated(old: $0, new: object) } ?? .added(object)]
        case .delete(let object):
            let itemKey = key(object)
            guard let old = objects.removeValue(forKey: itemKey) else { return [] }
            return [.deleted(old)]
        }
    }
}
