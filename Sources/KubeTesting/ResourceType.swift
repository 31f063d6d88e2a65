public import DataTree

/// A resource the test API server serves: built in, or registered by creating a CRD.
public struct ResourceType: Sendable, Hashable {
    public var group: String
    public var versions: [String]
    public var resource: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var hasStatus: Bool
    /// The CRD's `openAPIV3Schema` (for the OpenAPI documents kubectl validates against).
    public var schema: Node?

    public init(group: String, versions: [String], resource: String, singular: String? = nil, kind: String, namespaced: Bool, shortNames: [String] = [], hasStatus: Bool = false, schema: Node? = nil) {
        self.group = group
        self.versions = versions
        self.resource = resource
        self.singular = singular ?? kind.lowercased()
        self.kind = kind
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.hasStatus = hasStatus
        self.schema = schema
    }

    /// Storage key: objects are shared by all versions of a group/resource.
    public var key: String { group.isEmpty ? resource : "\(resource).\(group)" }

    public func apiVersion(_ version: String) -> String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The built-in kinds netwatch and kubectl use.
    public static let builtIn: [ResourceType] = [
        ResourceType(group: "", versions: ["v1"], resource: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"], hasStatus: true),
        ResourceType(group: "", versions: ["v1"], resource: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], hasStatus: true),
        ResourceType(group: "", versions: ["v1"], resource: "services", kind: "Service", namespaced: true, shortNames: ["svc"], hasStatus: true),
        ResourceType(group: "", versions: ["v1"], resource: "endpoints", kind: "Endpoints", namespaced: true, shortNames: ["ep"]),
        ResourceType(group: "", versions: ["v1"], resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"]),
        ResourceType(group: "", versions: ["v1"], resource: "secrets", kind: "Secret", namespaced: true),
        ResourceType(group: "", versions: ["v1"], resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"]),
        ResourceType(group: "", versions: ["v1"], resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"]),
        ResourceType(group: "", versions: ["v1"], resource: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], hasStatus: true),
        ResourceType(group: "apps", versions: ["v1"], resource: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"], hasStatus: true),
        ResourceType(group: "apps", versions: ["v1"], resource: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: ["ds"], hasStatus: true),
        ResourceType(group: "apps", versions: ["v1"], resource: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], hasStatus: true),
        ResourceType(group: "apps", versions: ["v1"], resource: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], hasStatus: true),
        ResourceType(group: "batch", versions: ["v1"], resource: "jobs", kind: "Job", namespaced: true, hasStatus: true),
        ResourceType(group: "batch", versions: ["v1"], resource: "cronjobs", kind: "CronJob", namespaced: true, shortNames: ["cj"], hasStatus: true),
        ResourceType(group: "coordination.k8s.io", versions: ["v1"], resource: "leases", kind: "Lease", namespaced: true),
        ResourceType(group: "events.k8s.io", versions: ["v1"], resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"]),
        ResourceType(group: "networking.k8s.io", versions: ["v1"], resource: "ingresses", kind: "Ingress", namespaced: true, shortNames: ["ing"], hasStatus: true),
        ResourceType(group: "networking.k8s.io", versions: ["v1"], resource: "networkpolicies", kind: "NetworkPolicy", namespaced: true, shortNames: ["netpol"]),
        ResourceType(group: "discovery.k8s.io", versions: ["v1"], resource: "endpointslices", kind: "EndpointSlice", namespaced: true),
        ResourceType(group: "rbac.authorization.k8s.io", versions: ["v1"], resource: "roles", kind: "Role", namespaced: true),
        ResourceType(group: "rbac.authorization.k8s.io", versions: ["v1"], resource: "rolebindings", kind: "RoleBinding", namespaced: true),
        ResourceType(group: "rbac.authorization.k8s.io", versions: ["v1"], resource: "clusterroles", kind: "ClusterRole", namespaced: false),
        ResourceType(group: "rbac.authorization.k8s.io", versions: ["v1"], resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false),
        ResourceType(group: "admissionregistration.k8s.io", versions: ["v1"], resource: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration", namespaced: false),
        ResourceType(group: "policy", versions: ["v1"], resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true, shortNames: ["pdb"], hasStatus: true),
        ResourceType(group: "apiextensions.k8s.io", versions: ["v1"], resource: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false, shortNames: ["crd", "crds"], hasStatus: true),
    ]

    /// The resource a CRD object declares, or nil when the CRD is incomplete.
    static func from(crd: Node) -> ResourceType? {
        guard let spec = crd["spec"], let group = spec["group"]?.string,
              let names = spec["names"], let plural = names["plural"]?.string, let kind = names["kind"]?.string else { return nil }
        let versions = spec["versions"]?.sequence ?? []
        let served = versions.filter { $0["served"] != .bool(false) }
        let names2 = served.compactMap { $0["name"]?.string }
        guard !names2.isEmpty else { return nil }
        let storage = served.first { $0["storage"] == .bool(true) } ?? served[0]
        return ResourceType(
            group: group, versions: names2, resource: plural, singular: names["singular"]?.string, kind: kind,
            namespaced: spec["scope"]?.string != "Cluster",
            shortNames: names["shortNames"]?.sequence?.compactMap(\.string) ?? [],
            hasStatus: storage["subresources"]?["status"] != nil,
            schema: storage["schema"]?["openAPIV3Schema"]
        )
    }
}
