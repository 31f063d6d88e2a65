import Logging

/// The initial state of a collection and a resourceVersion to watch from, by a streaming list
/// (`sendInitialEvents`) where the server supports it and by a paginated list otherwise.
public struct InitialList<Object: Decodable & Sendable>: Sendable {
    public enum Method: Sendable, Equatable {
        case streamingList
        /// The server refused `sendInitialEvents` (422, 400 or 403) or never sent the end marker.
        case list(reason: String)
    }

    /// The objects, sorted by key.
    public var items: [Object]
    public var resourceVersion: String
    /// The watch that delivered the initial events, still open and positioned after them, when
    /// the streaming list worked.
    public var watch: ContinuedWatch<Object>?
    public var method: Method
}

extension KubeClient {
    /// Reads the whole collection once, ready to be watched.
    ///
    /// Tries a watch with `sendInitialEvents=true` first (one request, served from the watch
    /// cache) and applies its events in order, including MODIFIED and DELETED that arrive
    /// before the `k8s.io/initial-events-end` bookmark. Falls back to `listAll` when the server
    /// refuses the parameter, or when no end marker arrives within `endMarkerTimeout` (a server
    /// that ignores the parameter just streams changes). Either way the result is complete as of
    /// `resourceVersion`.
    public func initialList<Object: Decodable & Sendable>(
        _ type: Object.Type, _ resource: APIResource, namespace: String? = nil,
        labelSelector: String? = nil, fieldSelector: String? = nil,
        endMarkerTimeout: Duration = .seconds(30),
        key: @escaping @Sendable (Object) -> String
    ) async throws -> InitialList<Object> {
        let options = WatchOptions(labelSelector: labelSelector, fieldSelector: fieldSelector, sendInitialEvents: true)
        let stream: WatchStream<Object>
        do {
            stream = try await watch(type, resource, namespace: namespace, options: options)
        } catch let error as APIError where [400, 403, 422].contains(error.code) {
            return try await fallbackList(type, resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, reason: "the server refused sendInitialEvents (HTTP \(error.code))")
        }

        typealias Collected = (items: [String: Object], version: String, rest: WatchStream<Object>.AsyncIterator)
        let collected = try await withThrowingTaskGroup(of: Collected?.self) { group in
            group.addTask {
                var items: [String: Object] = [:]
                var iterator = stream.makeAsyncIterator()
                while let event = try await iterator.next() {
                    switch event {
                    case .added(let object), .modified(let object): items[key(object)] = object
                    case .deleted(let object): items[key(object)] = nil
                    case .bookmark(let version, let end): if end { return (items, version, iterator) }
                    case .unreadable(let unreadable, let deleted):
                        if let standIn = unreadable.standIn(as: Object.self, resource: resource) { items[key(standIn)] = deleted ? nil : standIn }
                    }
                }
                return nil  // closed before the end marker
            }
            group.addTask {
                try await Task.sleep(for: endMarkerTimeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let collected else {
            stream.close()
            logger.info("no initial-events-end bookmark; listing instead", metadata: ["kube.resource": "\(resource)"])
            return try await fallbackList(type, resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, reason: "no initial-events-end bookmark within \(endMarkerTimeout)")
        }
        let items = collected.items.sorted { $0.key < $1.key }.map(\.value)
        return InitialList(items: items, resourceVersion: collected.version, watch: ContinuedWatch(stream: stream, iterator: collected.rest), method: .streamingList)
    }

    private func fallbackList<Object: Decodable & Sendable>(_ type: Object.Type, _ resource: APIResource, namespace: String?, labelSelector: String?, fieldSelector: String?, reason: String) async throws -> InitialList<Object> {
        let list = try await listAll(type, resource, namespace: namespace, options: ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector))
        return InitialList(items: list.items, resourceVersion: list.resourceVersion, watch: nil, method: .list(reason: reason))
    }
}

/// The rest of a watch after its initial events: iterate it once.
public struct ContinuedWatch<Object: Decodable & Sendable>: AsyncSequence, Sendable {
    let stream: WatchStream<Object>
    let iterator: WatchStream<Object>.AsyncIterator

    /// Aborts the underlying transfer.
    public func close() { stream.close() }

    public func makeAsyncIterator() -> WatchStream<Object>.AsyncIterator { iterator }
}
