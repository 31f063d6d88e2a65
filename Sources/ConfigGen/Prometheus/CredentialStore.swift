import DataTree
public import KubeModel
public import NetWatchAPI

/// A Secret's or ConfigMap's data, read because scrape endpoints reference it.
public struct CredentialObject: Sendable, Hashable {
    public var kind: CredentialSource.Kind
    public var namespace: String
    public var name: String
    public var data: [String: [UInt8]]

    public init(kind: CredentialSource.Kind, namespace: String, name: String, data: [String: [UInt8]]) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.data = data
    }

    /// A Secret (`data` base64, `stringData`) or ConfigMap (`data`, `binaryData` base64) as read
    /// from a manifest or the API; nil for other kinds. Undecodable values are left out.
    public static func decode(_ raw: RawObject) -> CredentialObject? {
        guard raw.type.group.isEmpty else { return nil }
        let kind: CredentialSource.Kind
        switch raw.type.kind {
        case "Secret": kind = .secret
        case "ConfigMap": kind = .configMap
        default: return nil
        }
        var data: [String: [UInt8]] = [:]
        let encoded = kind == .secret ? "data" : "binaryData"
        let plain = kind == .secret ? "stringData" : "data"
        for (key, value) in raw.document[encoded]?.stringValues ?? [:] {
            if let bytes = Base64.decode(value) { data[key] = bytes }
        }
        for (key, value) in raw.document[plain]?.stringValues ?? [:] { data[key] = Array(value.utf8) }
        return CredentialObject(kind: kind, namespace: raw.metadata.namespace ?? "default", name: raw.metadata.name, data: data)
    }
}

/// Looks credential values up by reference, knowing whether an absent object means "missing"
/// (the operator fetched every reference) or "not given" (`netwatch render`: Secrets are
/// mounted in the cluster, not committed).
struct CredentialStore {
    enum Lookup: Equatable {
        case value([UInt8])
        /// Not known here; Prometheus will read the file from a mount.
        case unknown
        case missingObject
        case missingKey
    }

    private let objects: [String: CredentialObject]
    /// Whether every referenced object was looked for, so an absent one does not exist.
    let authoritative: Bool

    init(_ objects: [CredentialObject], authoritative: Bool) {
        var index: [String: CredentialObject] = [:]
        for object in objects { index["\(object.kind.rawValue)/\(object.namespace)/\(object.name)"] = object }
        self.objects = index
        self.authoritative = authoritative
    }

    func lookup(_ source: CredentialSource) -> Lookup {
        guard let object = objects["\(source.kind.rawValue)/\(source.namespace)/\(source.name)"] else {
            return authoritative ? .missingObject : .unknown
        }
        guard let value = object.data[source.key] else { return .missingKey }
        return .value(value)
    }
}

/// An endpoint's TLS and authentication as Prometheus keys, with the credential files they
/// read. Secret values never enter the keys (a user name and an OAuth2 client id, which
/// Prometheus does not treat as secret, excepted); they go to files under `credentials/`.
struct ResolvedSecurity: Sendable, Hashable {
    /// tls_config, authorization, basic_auth, oauth2, in prometheus-operator's order.
    var keys: [String: Node] = [:]
    var files: [CredentialSource] = []

    static let order = ["tls_config", "basic_auth", "oauth2", "authorization"]

    /// Resolves the settings of an endpoint of a monitor in `namespace` (class settings in the
    /// stack's namespace were merged in before). Problems are (field under `path`, message);
    /// any problem means the endpoint cannot be scraped as configured.
    /// `usernameFromFile`: the Prometheus reads `username_file` (3.0+); otherwise the user name
    /// is written into the configuration, which only a render that may hold values (the
    /// operator's) can do.
    static func resolve(_ security: ScrapeSecurity, namespace: String, path: String, store: CredentialStore, usernameFromFile: Bool,
                        mayHoldValues: Bool) -> (ResolvedSecurity, [(String, String)]) {
        var resolved = ResolvedSecurity()
        var problems: [(String, String)] = []

        /// The path of a referenced credential's file, nil when optional and missing.
        func file(_ source: CredentialSource?, field: String) -> String? {
            guard let source else { return nil }
            switch store.lookup(source) {
            case .value, .unknown:
                resolved.files.append(source)
                return "credentials/\(source.fileName)"
            case .missingObject where !source.optional:
                problems.append((field, "\(source.kind.rawValue) \(source.namespace)/\(source.name) does not exist; create it or fix the reference (this endpoint is skipped)"))
            case .missingKey where !source.optional:
                problems.append((field, "\(source.kind.rawValue) \(source.namespace)/\(source.name) has no key \(source.key) (this endpoint is skipped)"))
            default:
                break
            }
            return nil
        }
        func value(_ source: CredentialSource, field: String) -> String? {
            switch store.lookup(source) {
            case .value(let bytes): return String(decoding: bytes, as: UTF8.self).trimmingTrailingNewline
            case .unknown:
                problems.append((field, "\(source.description) is not among the inputs, and Prometheus reads this value only from the configuration; give netwatch the \(source.kind.rawValue) (this endpoint is skipped)"))
            case .missingObject:
                if !source.optional { problems.append((field, "\(source.kind.rawValue) \(source.namespace)/\(source.name) does not exist (this endpoint is skipped)")) }
            case .missingKey:
                if !source.optional { problems.append((field, "\(source.kind.rawValue) \(source.namespace)/\(source.name) has no key \(source.key) (this endpoint is skipped)")) }
            }
            return nil
        }
        func secret(_ selector: SecretKeySelector?) -> CredentialSource? {
            selector.map { CredentialSource(kind: .secret, namespace: namespace, name: $0.name, key: $0.key, optional: $0.optional) }
        }
        func reference(_ choice: SecretOrConfigMap?) -> CredentialSource? {
            guard let choice else { return nil }
            if let secret = choice.secret { return CredentialSource(kind: .secret, namespace: namespace, name: secret.name, key: secret.key, optional: secret.optional) }
            if let map = choice.configMap { return CredentialSource(kind: .configMap, namespace: namespace, name: map.name, key: map.key, optional: map.optional) }
            return nil
        }

        if let tls = security.tlsConfig {
            var mapping = Mapping()
            if let path = file(reference(tls.ca), field: "\(path).tlsConfig.ca") ?? tls.caFile { mapping["ca_file"] = .string(path) }
            if let path = file(reference(tls.cert), field: "\(path).tlsConfig.cert") ?? tls.certFile { mapping["cert_file"] = .string(path) }
            if let path = file(secret(tls.keySecret), field: "\(path).tlsConfig.keySecret") ?? tls.keyFile { mapping["key_file"] = .string(path) }
            if let name = tls.serverName { mapping["server_name"] = .string(name) }
            if let skip = tls.insecureSkipVerify { mapping["insecure_skip_verify"] = .bool(skip) }
            if let version = tls.minVersion { mapping["min_version"] = .string(version) }
            if let version = tls.maxVersion { mapping["max_version"] = .string(version) }
            if !mapping.isEmpty { resolved.keys["tls_config"] = .mapping(mapping) }
        }
        if let basic = security.basicAuth {
            var mapping = Mapping()
            if let username = secret(basic.username) {
                if usernameFromFile {
                    if let path = file(username, field: "\(path).basicAuth.username") { mapping["username_file"] = .string(path) }
                } else if !mayHoldValues {
                    problems.append(("\(path).basicAuth.username", "Prometheus before 3.0 reads a basic-auth user name only from its configuration, and netwatch render never writes Secret values there; set spec.prometheus.version to 3.0 or later (username_file), or let the operator render this stack (this endpoint is skipped)"))
                } else if let name = value(username, field: "\(path).basicAuth.username") {
                    // Not a secret to Prometheus, which has no file for it before 3.0.
                    mapping["username"] = .string(name)
                }
            }
            if let path = file(secret(basic.password), field: "\(path).basicAuth.password") ?? basic.passwordFile { mapping["password_file"] = .string(path) }
            resolved.keys["basic_auth"] = .mapping(mapping)
        }
        if let oauth2 = security.oauth2 {
            var mapping = Mapping()
            if let client = reference(oauth2.clientId), let id = value(client, field: "\(path).oauth2.clientId") { mapping["client_id"] = .string(id) }
            if let path = file(secret(oauth2.clientSecret), field: "\(path).oauth2.clientSecret") { mapping["client_secret_file"] = .string(path) }
            mapping["token_url"] = .string(oauth2.tokenUrl)
            if !oauth2.scopes.isEmpty { mapping["scopes"] = .strings(oauth2.scopes) }
            if !oauth2.endpointParams.isEmpty { mapping["endpoint_params"] = .sortedStringMap(oauth2.endpointParams) }
            resolved.keys["oauth2"] = .mapping(mapping)
        }
        if let authorization = security.authorization {
            var mapping = Mapping()
            mapping["type"] = .string(authorization.type ?? "Bearer")
            if let path = file(secret(authorization.credentials), field: "\(path).authorization.credentials") ?? authorization.credentialsFile {
                mapping["credentials_file"] = .string(path)
            }
            resolved.keys["authorization"] = .mapping(mapping)
        } else if let token = security.bearerTokenSecret {
            if let path = file(secret(token), field: "\(path).bearerTokenSecret") { resolved.keys["authorization"] = ["type": "Bearer", "credentials_file": .string(path)] }
        } else if let tokenFile = security.bearerTokenFile {
            resolved.keys["authorization"] = ["type": "Bearer", "credentials_file": .string(tokenFile)]
        }
        return (resolved, problems)
    }
}

extension String {
    /// Secrets created with `kubectl create secret --from-file` often end in a newline that is
    /// not part of a user name or client id.
    var trimmingTrailingNewline: String {
        var text = Substring(self)
        while text.last == "\n" || text.last == "\r" { text = text.dropLast() }
        return String(text)
    }
}
