import DataTree
import Synchronization

/// Watch registration: the initial events and the live stream are cut at one revision under
/// the lock, so a watch never misses or repeats a change.
extension ClusterState {
    struct WatchStart {
        var initialLines: [[UInt8]]
        var stream: AsyncStream<WatchMessage>?
        var continuation: AsyncStream<WatchMessage>.Continuation?
        var id: Int
    }

    func startWatch(
        type: ResourceType, version: String, namespace: String?, labels: LabelSelectorQuery?, fields: FieldSelectorQuery?,
        resourceVersion: String?, sendInitialEvents: Bool
    ) -> WatchStart {
        storage.withLock { storage in
            if storage.stopped { return WatchStart(initialLines: [], stream: nil, continuation: nil, id: -1) }
            var lines: [[UInt8]] = []
            let requested = resourceVersion.flatMap(Int.init) ?? 0
            let injected = storage.faults.injectedWatchBytes
            storage.faults.injectedWatchBytes = nil
            if let injected { lines.append(injected) }

            if requested != 0 && requested < storage.compactedRevision && !sendInitialEvents {
                let failure = APIFailure(code: 410, reason: "Expired", message: "too old resource version: \(requested) (\(storage.compactedRevision))")
                lines.append(Self.line(type: "ERROR", object: compactJSON(failure.status)))
                return WatchStart(initialLines: lines, stream: nil, continuation: nil, id: -1)
            }
                        if requested == 0 || sendInitialEvents {
                let objects = storage.objects[type.key] ?? [:]
                for key in objects.keys.sorted() {
                    guard let object = objects[key] else { continue }
                    if let namespace, object.namespace != namespace { continue }
                    if let labels, !labels.matches(object.labels) { continue }
                    if let fields, !fields.isEmpty, !fields.matches(object.node) { continue }
                    lines.append(Self.line(type: "ADDED", object: object.json))
                }
                if sendInitialEvents && !storage.faults.ignoreSendInitialEvents {
                    lines.append(Self.bookmark(type: type, version: version, revision: storage.revision, initialEventsEnd: true))
                }
            } else {
                for event in storage.events[storage.eventStart...] where event.object.revision > requested && event.resourceKey == type.key {
                    if let delivered = Self.deliveredType(event, namespace: namespace, labels: labels, fields: fields) {
                        lines.append(Self.line(type: delivered, object: event.object.json))
                    }
                }
            }
            let (stream, continuation) = AsyncStream<WatchMessage>.makeStream()
            let id = storage.nextWatcherID
            storage.nextWatcherID += 1
            storage.watchers[id] = Watcher(resourceKey: type.key, namespace: namespace, labels: labels, fields: fields, continuation: continuation)
            return WatchStart(initialLines: lines, stream: stream, continuation: continuation, id: id)
        }
    }

    func stopWatch(_ id: Int) {
        let watcher = storage.withLock { $0.watchers.removeValue(forKey: id) }
        watcher?.continuation.finish()
    }

    static func line(type: String, object: [UInt8]) -> [UInt8] {
        var out = Array(#"{"type":""#.utf8)
        out += type.utf8
        out += Array(#"","object":"#.utf8)
        out += object
        out += Array("}\n".utf8)
        return out
    }

    static func bookmark(type: ResourceType, version: String, revision: Int, initialEventsEnd: Bool) -> [UInt8] {
        var metadata = Mapping([("resourceVersion", .string(String(revision)))])
        if initialEventsEnd { metadata["annotations"] = ["k8s.io/initial-events-end": "true"] }
        let object: Node = ["kind": .string(type.kind), "apiVersion": .string(type.apiVersion(version)), "metadata": .mapping(metadata)]
        return line(type: "BOOKMARK", object: compactJSON(object))
    }
}
