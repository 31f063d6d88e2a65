import DataTree

/// The discovery and OpenAPI documents kubectl reads before anything else.
enum Discovery {
    static func version() -> Node {
        ["major": "1", "minor": "34", "gitVersion": "v1.34.0-netwatch-dev", "gitCommit": "netwatch", "gitTreeState": "clean",
         "buildDate": "2026-01-01T00:00:00Z", "goVersion": "none", "compiler": "swift", "platform": "linux/amd64"]
    }

    static func coreVersions(serverAddress: String) -> Node {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    static func groupList(_ types: [ResourceType]) -> Node {
        .mapping(Mapping([("kind", "APIGroupList"), ("apiVersion", "v1"), ("groups", .sequence(groups(types).map(group)))]))
    }

    static func groups(_ types: [ResourceType]) -> [(name: String, versions: [String])] {
        var versions: [String: [String]] = [:]
        for type in types where !type.group.isEmpty {
            for version in type.versions where !(versions[type.group]?.contains(version) ?? false) {
                versions[type.group, default: []].append(version)
            }
        }
        return versions.keys.sorted().map { ($0, versions[$0]!.sorted(by: versionOrder)) }
    }

    static func group(_ entry: (name: String, versions: [String])) -> Node {
        let versions: [Node] = entry.versions.map { ["groupVersion": .string("\(entry.name)/\($0)"), "version": .string($0)] }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(entry.name), "versions": .sequence(versions), "preferredVersion": versions[0]]
    }

    /// Kubernetes prefers v1 over v1beta1 over v1alpha1.
    static func versionOrder(_ lhs: String, _ rhs: String) -> Bool {
        func rank(_ version: String) -> (Int, Int, Int) {
            let stability = version.contains("alpha") ? 2 : version.contains("beta") ? 1 : 0
            let major = Int(version.dropFirst().prefix { $0.isNumber }) ?? 0
            let minor = Int(version.split(separator: version.contains("alpha") ? "alpha" : "beta").last.map(String.init) ?? "") ?? 0
            return (stability, -major, -minor)
        }
        return rank(lhs) < rank(rhs)
    }

    static func resourceList(group: String, version: String, _ types: [ResourceType]) -> Node {
        var resources: [Node] = []
        let verbs: Node = ["create", "delete", "get", "list", "patch", "update", "watch"]
        for type in types.filter({ $0.group == group && $0.versions.contains(version) }).sorted(by: { $0.resource < $1.resource }) {
            var entry = Mapping([
                ("name", .string(type.resource)), ("singularName", .string(type.singular)), ("namespaced", .bool(type.namespaced)),
                ("kind", .string(type.kind)), ("verbs", verbs),
            ])
            if !type.shortNames.isEmpty { entry["shortNames"] = .strings(type.shortNames) }
            resources.append(.mapping(entry))
            if type.hasStatus {
                resources.append(["name": .string("\(type.resource)/status"), "singularName": "", "namespaced": .bool(type.namespaced), "kind": .string(type.kind), "verbs": ["get", "patch", "update"]])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .sequence(resources)]
    }

    /// gnostic `openapi_v2.Document{swagger: "2.0", info: {title, version}, paths: {}}` in protobuf.
    static let emptyOpenAPIv2Protobuf: [UInt8] = {
        func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(bytes.count)] + bytes }
        let info = field(1, Array("netwatch-dev-apiserver".utf8)) + field(2, Array("v1.34.0".utf8))
        return field(1, Array("2.0".utf8)) + field(2, info) + field(8, [])
    }()

    /// `/openapi/v3`: one document per group/version.
    static func openAPIIndex(_ types: [ResourceType]) -> Node {
        var paths = Mapping()
        paths["api/v1"] = ["serverRelativeURL": "/openapi/v3/api/v1"]
        for entry in groups(types) {
            for version in entry.versions {
                paths["apis/\(entry.name)/\(version)"] = ["serverRelativeURL": .string("/openapi/v3/apis/\(entry.name)/\(version)")]
            }
        }
        return ["paths": .mapping(paths)]
    }

    /// A per-group/version OpenAPI v3 document: each kind's schema (a CRD's own schema, or an
    /// open object for built-in kinds) tagged with its group-version-kind.
    static func openAPIDocument(group: String, version: String, _ types: [ResourceType]) -> Node {
        var schemas = Mapping()
        var paths = Mapping()
        for type in types.filter({ $0.group == group && $0.versions.contains(version) }).sorted(by: { $0.kind < $1.kind }) {
            var schema: Mapping
            if case .mapping(let declared)? = type.schema { schema = declared } else {
                schema = Mapping([("type", "object"), ("x-kubernetes-preserve-unknown-fields", true)])
            }
            var properties = schema["properties"]?.mapping ?? Mapping()
            properties["apiVersion"] = ["type": "string"]
            properties["kind"] = ["type": "string"]
            properties["metadata"] = ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            schema["properties"] = .mapping(properties)
            schema["x-kubernetes-group-version-kind"] = [["group": .string(group), "version": .string(version), "kind": .string(type.kind)]]
            let prefix = group.isEmpty ? "io.k8s.api.core" : group.split(separator: ".").reversed().joined(separator: ".")
            schemas["\(prefix).\(version).\(type.kind)"] = .mapping(schema)
            // kubectl looks for the PATCH operation of a kind and its fieldValidation parameter to
            // decide that the server validates (it then sends fieldValidation=Strict).
            let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
            let path = type.namespaced ? "\(base)/namespaces/{namespace}/\(type.resource)/{name}" : "\(base)/\(type.resource)/{name}"
            let parameters: Node = .sequence(["dryRun", "fieldManager", "fieldValidation", "force"].map { ["name": .string($0), "in": "query", "schema": ["type": "string"]] })
            let gvk: Node = ["group": .string(group), "version": .string(version), "kind": .string(type.kind)]
            paths[path] = [
                "patch": ["operationId": .string("patch\(type.kind)"), "x-kubernetes-group-version-kind": gvk, "parameters": parameters, "responses": ["200": ["description": "OK"]]],
                "put": ["operationId": .string("replace\(type.kind)"), "x-kubernetes-group-version-kind": gvk, "parameters": parameters, "responses": ["200": ["description": "OK"]]],
            ]
        }
        return ["openapi": "3.0.0", "info": ["title": "netwatch-dev-apiserver", "version": "v1.34.0"], "paths": .mapping(paths), "components": ["schemas": .mapping(schemas)]]
    }
}
