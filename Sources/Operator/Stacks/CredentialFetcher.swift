public import ConfigGen
import DataTree
public import KubeClient
import KubeModel
public import NetWatchAPI

/// Reads the Secrets and ConfigMaps that scrape endpoints reference, one GET per object: the
/// operator needs `get` on them, never `list` or `watch` of every Secret in the cluster.
///
/// Guarantees: only referenced objects are read; a 404 means the object does not exist (the
/// render then skips the endpoints needing it, with a diagnostic); any other failure throws,
/// so a render never runs with credentials it could not read. Values are never logged.
public struct CredentialFetcher: Sendable {
    /// A referenced object: kind, namespace, name.
    public struct Reference: Sendable, Hashable, Comparable {
        public var kind: CredentialSource.Kind
        public var namespace: String
        public var name: String

        public static func < (lhs: Reference, rhs: Reference) -> Bool {
            (lhs.kind, lhs.namespace, lhs.name) < (rhs.kind, rhs.namespace, rhs.name)
        }
    }

    let client: KubeClient

    public init(client: KubeClient) {
        self.client = client
    }

    /// Every object the snapshot's monitors reference, sorted.
    public static func references(in snapshot: Snapshot) -> [Reference] {
        var sources: [CredentialSource] = []
        for monitor in snapshot.networkMonitors + snapshot.podMonitors {
            for endpoint in monitor.spec.endpoints { sources += endpoint.security.sources(in: monitor.namespace) }
        }
        for monitor in snapshot.serviceMonitors {
            for endpoint in monitor.spec.endpoints { sources += endpoint.scrape.security.sources(in: monitor.namespace) }
        }
        for probe in snapshot.prometheusOperatorProbes { sources += probe.spec.security.sources(in: probe.namespace) }
        return Set(sources.map { Reference(kind: $0.kind, namespace: $0.namespace, name: $0.name) }).sorted()
    }

    /// The referenced objects that exist.
    public func fetch(_ references: [Reference]) async throws -> [CredentialObject] {
        var objects: [CredentialObject] = []
        for reference in references {
            let resource: APIResource = reference.kind == .secret ? .secrets : .configMaps
            do {
                let node = try await client.get(Node.self, resource, namespace: reference.namespace, name: reference.name)
                let (raw, _) = ObjectReader.rawObjects(from: node, source: nil)
                if let object = raw.first.flatMap(CredentialObject.decode) { objects.append(object) }
            } catch let error as APIError where error.isNotFound {
                continue
            }
        }
        return objects
    }
}
