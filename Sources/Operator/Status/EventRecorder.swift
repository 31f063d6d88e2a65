import ConfigGen
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import Synchronization

/// Records core/v1 Events about netwatch's resources (what `kubectl describe` shows under
/// Events), once per problem: a problem already recorded for an object is not recorded again
/// while it persists; if it goes away and comes back, it is recorded again.
///
/// Best effort by design: a failed Event is logged and retried on the next reconcile, never
/// fails one.
final class EventRecorder: Sendable {
    static let resource = APIResource(group: "", version: "v1", resource: "events", kind: "Event", namespaced: true)

    private let client: KubeClient
    private let logger: Logger
    private let identity: String
    /// Object uid → problems recorded and still present.
    private let recorded = Mutex<[String: Set<String>]>([:])

    private let wallClock: WallClock

    init(client: KubeClient, logger: Logger, identity: String, wallClock: WallClock) {
        self.client = client
        self.wallClock = wallClock
        self.logger = logger
        self.identity = identity
    }

    /// Records each of `problems` not yet recorded for `object` (a NetworkMonitor or
    /// MonitoringStack as stored).
    func record(_ problems: [Diagnostic], about object: Node, reason: String? = nil) async {
        let metadata = object["metadata"]
        guard let name = metadata?["name"]?.string, let kind = object["kind"]?.string else { return }
        let namespace = metadata?["namespace"]?.string ?? "default"
        let uid = metadata?["uid"]?.string ?? "\(kind)/\(namespace)/\(name)"
        let current = problems.map { "\($0.severity.rawValue)|\($0.field ?? "")|\($0.message)" }
        // Kept per object and reason, so problems and reports about one object do not evict each other.
        let bucket = reason.map { "\(uid)|\($0)" } ?? uid
        let already = recorded.withLock { $0[bucket] ?? [] }
        var kept = already.intersection(current)
        let now = wallClock.timestamp
        for (problem, key) in zip(problems, current) where !kept.contains(key) {
            var hash = FNV1a64()
            hash.add(Array("\(uid)|\(key)|\(now)".utf8))
            let message = "\(problem.field.map { "\($0): " } ?? "")\(problem.message)"
            var involved = Mapping()
            involved["apiVersion"] = object["apiVersion"] ?? "netwatch.dev/v1alpha1"
            involved["kind"] = .string(kind)
            involved["name"] = .string(name)
            involved["namespace"] = .string(namespace)
            if let uid = metadata?["uid"] { involved["uid"] = uid }
            let event: Node = [
                "apiVersion": "v1", "kind": "Event",
                "metadata": ["name": .string("\(name).\(hash.hex)"), "namespace": .string(namespace)],
                "involvedObject": .mapping(involved),
                "reason": .string(reason ?? (problem.severity == .error ? "InvalidConfiguration" : "ConfigurationWarning")),
                "message": .string(message),
                "type": "Warning",
                "source": ["component": "netwatch"],
                "reportingComponent": "netwatch", "reportingInstance": .string(identity),
                "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
            ]
            do {
                let _: Node = try await client.create(Node.self, Self.resource, namespace: namespace, object: event)
                kept.insert(key)
            } catch {
                logger.warning("cannot record an Event; retrying on the next reconcile", metadata: ["event.object": "\(kind) \(namespace)/\(name)", "error": "\(error)"])
            }
        }
        recorded.withLock { $0[bucket] = kept.isEmpty ? nil : kept }
    }

    /// Drops what was recorded for objects that no longer exist.
    func forget(except uids: Set<String>) {
        recorded.withLock { recorded in
            for bucket in recorded.keys where !bucket.contains("/") {
                let uid = bucket.split(separator: "|").first.map(String.init) ?? bucket
                if !uids.contains(uid) { recorded[bucket] = nil }
            }
        }
    }
}
