/// Where a kind lives in the API: group, version, plural resource name and scope. Works for
/// built-in kinds and custom resources alike; the client builds every URL from it.
public struct APIResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var resource: String
    public var kind: String
    public var namespaced: Bool

    public init(group: String, version: String, resource: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `v1` for the core group, `GROUP/VERSION` otherwise.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `pods`, `leases.coordination.k8s.io`: the name RBAC and kubectl use.
    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    /// `/api/v1` or `/apis/GROUP/VERSION`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The collection path, in one namespace when given (and the resource is namespaced).
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = groupVersionPath
        if namespaced, let namespace { path += "/namespaces/\(PathEscaping.segment(namespace))" }
        path += "/\(resource)"
        if let name { path += "/\(PathEscaping.segment(name))" }
        if let subresource { path += "/\(subresource)" }
        return path
    }

    public static let namespaces = APIResource(group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false)
    public static let nodes = APIResource(group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false)
    public static let pods = APIResource(group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true)
    public static let services = APIResource(group: "", version: "v1", resource: "services", kind: "Service", namespaced: true)
    public static let endpointSlices = APIResource(group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice", namespaced: true)
    public static let configMaps = APIResource(group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let secrets = APIResource(group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true)
    public static let leases = APIResource(group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true)
    public static let events = APIResource(group: "events.k8s.io", version: "v1", resource: "events", kind: "Event", namespaced: true)
    public static let ingresses = APIResource(group: "networking.k8s.io", version: "v1", resource: "ingresses", kind: "Ingress", namespaced: true)
    public static let networkPolicies = APIResource(group: "networking.k8s.io", version: "v1", resource: "networkpolicies", kind: "NetworkPolicy", namespaced: true)
    public static let customResourceDefinitions = APIResource(group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false)
}

/// Percent-encoding for path segments and query values (RFC 3986 unreserved characters pass).
public enum PathEscaping {
    public static func segment(_ value: String) -> String { escape(value, keep: "-._~") }
    public static func queryValue(_ value: String) -> String { escape(value, keep: "-._~") }

    private static func escape(_ value: String, keep: String) -> String {
        var out = ""
        for byte in value.utf8 {
            let scalar = Unicode.Scalar(byte)
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || keep.unicodeScalars.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%\(hex[Int(byte >> 4)])\(hex[Int(byte & 0xF)])"
            }
        }
        return out
    }

    /// Joins query parameters in the given order.
    public static func query(_ items: [(String, String)]) -> String {
        items.isEmpty ? "" : "?" + items.map { "\($0.0)=\(queryValue($0.1))" }.joined(separator: "&")
    }
}
