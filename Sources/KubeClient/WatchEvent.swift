import Foundation

/// One event of a watch stream, decoded in a single pass straight into `Object`.
public enum WatchEvent<Object: Decodable & Sendable>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// All changes up to `resourceVersion` have been sent. `initialEventsEnd` marks the end
    /// of the synthetic ADDED events of a `sendInitialEvents` watch.
    case bookmark(resourceVersion: String, initialEventsEnd: Bool)
    /// An ADDED or MODIFIED (`deleted` false) or DELETED event whose object could not be
    /// decoded; the stream goes on after it.
    case unreadable(UnreadableObject, deleted: Bool)
}

/// The wire envelope `{"type": …, "object": …}`; ERROR events carry a `Status` instead.
struct WatchEnvelope<Object: Decodable & Sendable>: Decodable {
    enum Decoded {
        case event(WatchEvent<Object>)
        case error(Status)
    }

    let decoded: Decoded

    private enum CodingKeys: String, CodingKey { case type, object }
    private struct Bookmark: Decodable {
        struct Metadata: Decodable {
            var resourceVersion: String?
            var annotations: [String: String]?
        }
        var metadata: Metadata
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ADDED": decoded = .event(.added(try container.decode(Object.self, forKey: .object)))
        case "MODIFIED": decoded = .event(.modified(try container.decode(Object.self, forKey: .object)))
        case "DELETED": decoded = .event(.deleted(try container.decode(Object.self, forKey: .object)))
        case "BOOKMARK":
            let bookmark = try container.decode(Bookmark.self, forKey: .object)
            decoded = .event(.bookmark(
                resourceVersion: bookmark.metadata.resourceVersion ?? "",
                initialEventsEnd: bookmark.metadata.annotations?["k8s.io/initial-events-end"] == "true"
            ))
        case "ERROR": decoded = .error(try container.decode(Status.self, forKey: .object))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown watch event type \(type)")
        }
    }
}

/// Turns the byte chunks of a watch response into events.
///
/// Guarantees: an event is yielded only when its whole line decoded, so no partial object
/// reaches the caller; an ERROR event or a bare `Status` line ends the stream with `APIError`
/// (410 → `isExpired`); an event whose object cannot be decoded but can still be named (its
/// type and metadata.name skimmed from the bytes) is yielded as `.unreadable` and the stream
/// goes on; any other line that cannot be read ends it with `DecodingFailure` naming the byte
/// offset; an incomplete last line at a normal close is dropped (the server cut the stream).
public struct WatchStream<Object: Decodable & Sendable>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<Object>
    public typealias Failure = any Error

    let chunks: ByteChunks
    let url: String
    let resource: APIResource
    let namespace: String?
    let maxLineBytes: Int
    let decoder: JSONDecoder

    /// Aborts the underlying transfer.
    public func close() { chunks.close() }

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        var chunks: ByteChunks.AsyncIterator
        var framer: LineFramer
        var ready: [LineFramer.Line] = []
        var readyIndex = 0
        var done = false
        let url: String
        let resource: APIResource
        let namespace: String?
        let decoder: JSONDecoder

        public mutating func next() async throws -> WatchEvent<Object>? {
            while !done {
                if readyIndex < ready.count {
                    let line = ready[readyIndex]
                    readyIndex += 1
                    return try decode(line)
                }
                ready = []
                readyIndex = 0
                guard let chunk = try await chunks.next() else {
                    done = true
                    _ = framer.finish()
                    return nil
                }
                do {
                    ready = try framer.append(chunk)
                } catch {
                    done = true
                    throw DecodingFailure(what: "watch event", url: url, offset: error.offset, detail: "line longer than \(error.limit) bytes", bytes: chunk.prefix(0))
                }
            }
            return nil
        }

        /// An event line whose object could not be decoded, named from its skimmed bytes.
        static func skim(_ bytes: [UInt8], problem: String) -> WatchEvent<Object>? {
            let skimmer = JSONSkimmer(bytes)
            guard let envelope = skimmer.value(at: 0), let members = skimmer.members(of: envelope),
                  let type = members.first(where: { $0.key == "type" }).flatMap({ skimmer.string(in: $0.value) }), ["ADDED", "MODIFIED", "DELETED"].contains(type),
                  let object = members.first(where: { $0.key == "object" })?.value,
                  let unreadable = UnreadableObject.skim(skimmer, object, problem: problem) else { return nil }
            return .unreadable(unreadable, deleted: type == "DELETED")
        }

        private mutating func decode(_ line: LineFramer.Line) throws -> WatchEvent<Object> {
            let data = Data(line.bytes)
            do {
                switch try BodyDecoder.decode(WatchEnvelope<Object>.self, from: line.bytes, using: decoder).decoded {
                case .event(let event): return event
                case .error(let status):
                    done = true
                    throw APIError(verb: "watch", resource: resource, namespace: namespace, name: nil, code: status.code ?? 500, status: status)
                }
            } catch let error as APIError {
                throw error
            } catch {
                // The server may also send a bare Status line (kube-rs handles this too).
                if let status = try? decoder.decode(Status.self, from: data), status.status == "Failure" || status.code != nil {
                    done = true
                    throw APIError(verb: "watch", resource: resource, namespace: namespace, name: nil, code: status.code ?? 500, status: status)
                }
                if let unreadable = Self.skim(line.bytes, problem: "\(error)") { return unreadable }
                done = true
                throw DecodingFailure(what: "watch event", url: url, offset: line.offset, detail: "\(error)", bytes: line.bytes)
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(chunks: chunks.makeAsyncIterator(), framer: LineFramer(maxLineBytes: maxLineBytes), url: url, resource: resource, namespace: namespace, decoder: decoder)
    }
}
