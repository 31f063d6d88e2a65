import KubeModel

/// A key of a Secret in the monitor's namespace (`{name, key}`, prometheus-operator's
/// `SecretKeySelector`).
public struct SecretKeySelector: Sendable, Hashable, Decodable {
    public var name: String
    public var key: String
    /// A missing Secret or key is not an error (the field is left out).
    public var optional: Bool

    public init(name: String, key: String, optional: Bool = false) {
        self.name = name
        self.key = key
        self.optional = optional
    }

    private enum CodingKeys: String, CodingKey { case name, key, optional }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        key = try container.decodeIfPresent(String.self, forKey: .key) ?? ""
        optional = try container.decodeIfPresent(Bool.self, forKey: .optional) ?? false
    }

    static let schema = Schema.object(properties: [
        .init("name", .string(description: "Secret name, in the monitor's namespace.")),
        .init("key", .string(description: "Key in the Secret.")),
        .init("optional", .boolean(description: "A missing Secret or key leaves the field out instead of skipping the endpoint.")),
    ], required: ["name", "key"])
}

/// Where a credential comes from: a key of a Secret or of a ConfigMap in the monitor's
/// namespace, or a file already in Prometheus's container.
public struct CredentialSource: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Comparable {
        case secret = "Secret"
        case configMap = "ConfigMap"

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var kind: Kind
    public var namespace: String
    public var name: String
    public var key: String
    public var optional: Bool = false

    public init(kind: Kind, namespace: String, name: String, key: String, optional: Bool = false) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.key = key
        self.optional = optional
    }

    /// The file name the credential gets next to prometheus.yml, under `credentials/`: kind,
    /// namespace, name and key, which names and keys keep unique (neither contains `_`
    /// before the key).
    public var fileName: String { "\(kind == .secret ? "secret" : "configmap")_\(namespace)_\(name)_\(key)" }

    /// `Secret shop/api-token key token`, for messages; never the value.
    public var description: String { "\(kind.rawValue) \(namespace)/\(name) key \(key)" }

    public static func < (lhs: CredentialSource, rhs: CredentialSource) -> Bool {
        (lhs.kind, lhs.namespace, lhs.name, lhs.key) < (rhs.kind, rhs.namespace, rhs.name, rhs.key)
    }
}

/// `{secret: {name, key}}` or `{configMap: {name, key}}` (prometheus-operator's SecretOrConfigMap).
public struct SecretOrConfigMap: Sendable, Hashable, Decodable {
    public var secret: SecretKeySelector?
    public var configMap: SecretKeySelector?

    public init(secret: SecretKeySelector? = nil, configMap: SecretKeySelector? = nil) {
        self.secret = secret
        self.configMap = configMap
    }

    func source(in namespace: String) -> CredentialSource? {
        if let secret { return CredentialSource(kind: .secret, namespace: namespace, name: secret.name, key: secret.key, optional: secret.optional) }
        if let configMap { return CredentialSource(kind: .configMap, namespace: namespace, name: configMap.name, key: configMap.key, optional: configMap.optional) }
        return nil
    }

    static let schema = Schema.object(properties: [
        .init("secret", SecretKeySelector.schema),
        .init("configMap", SecretKeySelector.schema),
    ], description: "A key of a Secret or of a ConfigMap in the monitor's namespace; set one.")
}

/// `tlsConfig` of an endpoint: CA, client certificate and key from Secrets/ConfigMaps or
/// files in Prometheus's container, server name, verification and versions.
public struct ScrapeTLSConfig: Sendable, Hashable, Decodable {
    public var ca: SecretOrConfigMap?
    public var cert: SecretOrConfigMap?
    public var keySecret: SecretKeySelector?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var serverName: String?
    /// Off by default: certificates are verified unless this is set.
    public var insecureSkipVerify: Bool?
    public var minVersion: String?
    public var maxVersion: String?

    public init() {}

    public static let versions = ["TLS10", "TLS11", "TLS12", "TLS13"]

    static let schema = Schema.object(properties: [
        .init("ca", SecretOrConfigMap.schema),
        .init("cert", SecretOrConfigMap.schema),
        .init("keySecret", SecretKeySelector.schema),
        .init("caFile", .string(description: "CA file in Prometheus's container.")),
        .init("certFile", .string(description: "Client certificate file in Prometheus's container.")),
        .init("keyFile", .string(description: "Client key file in Prometheus's container.")),
        .init("serverName", .string(description: "Name to verify the server's certificate against (SNI).")),
        .init("insecureSkipVerify", .boolean(description: "Skip certificate verification (default false; avoid).")),
        .init("minVersion", .string(description: "Lowest TLS version.", enumValues: versions)),
        .init("maxVersion", .string(description: "Highest TLS version.", enumValues: versions)),
    ], description: "TLS for the scrapes; certificates are verified unless insecureSkipVerify is set.")
}

/// `authorization`: a type (default Bearer) and credentials from a Secret or a file.
public struct ScrapeAuthorization: Sendable, Hashable, Decodable {
    public var type: String?
    public var credentials: SecretKeySelector?
    public var credentialsFile: String?

    public init(type: String? = nil, credentials: SecretKeySelector? = nil, credentialsFile: String? = nil) {
        self.type = type
        self.credentials = credentials
        self.credentialsFile = credentialsFile
    }

    static let schema = Schema.object(properties: [
        .init("type", .string(description: "Authorization header type (default Bearer; Basic is not allowed, use basicAuth).")),
        .init("credentials", SecretKeySelector.schema),
        .init("credentialsFile", .string(description: "Credentials file in Prometheus's container.")),
    ], description: "The Authorization header of the scrapes.")
}

/// `basicAuth`: user name and password from Secrets (or the password from a file).
public struct ScrapeBasicAuth: Sendable, Hashable, Decodable {
    public var username: SecretKeySelector?
    public var password: SecretKeySelector?
    public var passwordFile: String?

    public init(username: SecretKeySelector? = nil, password: SecretKeySelector? = nil, passwordFile: String? = nil) {
        self.username = username
        self.password = password
        self.passwordFile = passwordFile
    }

    static let schema = Schema.object(properties: [
        .init("username", SecretKeySelector.schema),
        .init("password", SecretKeySelector.schema),
        .init("passwordFile", .string(description: "Password file in Prometheus's container.")),
    ], description: "HTTP basic authentication of the scrapes.")
}

/// `oauth2`: client credentials flow.
public struct ScrapeOAuth2: Sendable, Hashable, Decodable {
    public var clientId: SecretOrConfigMap?
    public var clientSecret: SecretKeySelector?
    public var tokenUrl: String
    public var scopes: [String]
    public var endpointParams: [String: String]

    private enum CodingKeys: String, CodingKey { case clientId, clientSecret, tokenUrl, scopes, endpointParams }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        clientId = try container.decodeIfPresent(SecretOrConfigMap.self, forKey: .clientId)
        clientSecret = try container.decodeIfPresent(SecretKeySelector.self, forKey: .clientSecret)
        tokenUrl = try container.decodeIfPresent(String.self, forKey: .tokenUrl) ?? ""
        scopes = try container.decodeIfPresent([String].self, forKey: .scopes) ?? []
        endpointParams = try container.decodeIfPresent([String: String].self, forKey: .endpointParams) ?? [:]
    }

    static let schema = Schema.object(properties: [
        .init("clientId", SecretOrConfigMap.schema),
        .init("clientSecret", SecretKeySelector.schema),
        .init("tokenUrl", .string(description: "Token endpoint.", pattern: "^https?://")),
        .init("scopes", .array(items: .string(), description: "Scopes requested.")),
        .init("endpointParams", .map(values: .string(), description: "Extra parameters of the token request.")),
    ], required: ["clientId", "clientSecret", "tokenUrl"], description: "OAuth 2.0 client credentials for the scrapes.")
}

/// How an endpoint authenticates and secures its scrapes: prometheus-operator's endpoint
/// fields (`tlsConfig`, `authorization`, `basicAuth`, `oauth2`, `bearerTokenSecret`,
/// `bearerTokenFile`). Every secret value is referenced, never held: Prometheus reads it from a
/// file netwatch materialises (or that is already in its container).
public struct ScrapeSecurity: Sendable, Hashable, Decodable {
    public var tlsConfig: ScrapeTLSConfig?
    public var authorization: ScrapeAuthorization?
    public var basicAuth: ScrapeBasicAuth?
    public var oauth2: ScrapeOAuth2?
    public var bearerTokenSecret: SecretKeySelector?
    public var bearerTokenFile: String?

    public init() {}

    private enum CodingKeys: String, CodingKey { case tlsConfig, authorization, basicAuth, oauth2, bearerTokenSecret, bearerTokenFile }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tlsConfig = try container.decodeIfPresent(ScrapeTLSConfig.self, forKey: .tlsConfig)
        authorization = try container.decodeIfPresent(ScrapeAuthorization.self, forKey: .authorization)
        basicAuth = try container.decodeIfPresent(ScrapeBasicAuth.self, forKey: .basicAuth)
        oauth2 = try container.decodeIfPresent(ScrapeOAuth2.self, forKey: .oauth2)
        bearerTokenSecret = try container.decodeIfPresent(SecretKeySelector.self, forKey: .bearerTokenSecret)
        bearerTokenFile = try container.decodeIfPresent(String.self, forKey: .bearerTokenFile)
    }

    public var isEmpty: Bool { self == ScrapeSecurity() }

    static let properties: [Schema.Property] = [
        .init("tlsConfig", ScrapeTLSConfig.schema),
        .init("authorization", ScrapeAuthorization.schema),
        .init("basicAuth", ScrapeBasicAuth.schema),
        .init("oauth2", ScrapeOAuth2.schema),
        .init("bearerTokenSecret", SecretKeySelector.schema),
        .init("bearerTokenFile", .string(description: "Bearer token file in Prometheus's container (deprecated in prometheus-operator; prefer authorization).")),
    ]

    /// The Secret and ConfigMap keys these settings read, in the monitor's namespace.
    public func sources(in namespace: String) -> [CredentialSource] {
        var sources: [CredentialSource?] = [
            tlsConfig?.ca?.source(in: namespace), tlsConfig?.cert?.source(in: namespace),
            oauth2?.clientId?.source(in: namespace),
        ]
        for selector in [tlsConfig?.keySecret, authorization?.credentials, basicAuth?.username, basicAuth?.password, oauth2?.clientSecret, bearerTokenSecret] {
            if let selector { sources.append(CredentialSource(kind: .secret, namespace: namespace, name: selector.name, key: selector.key, optional: selector.optional)) }
        }
        return sources.compactMap { $0 }
    }

    /// Problems Prometheus or prometheus-operator would reject, as (field, message) under `path`.
    func problems(at path: String) -> [(String, String)] {
        var problems: [(String, String)] = []
        let methods = [authorization != nil, basicAuth != nil, oauth2 != nil, bearerTokenSecret != nil || bearerTokenFile != nil].filter { $0 }.count
        if methods > 1 {
            problems.append((path, "set at most one of authorization, basicAuth, oauth2 and bearerToken*: Prometheus sends one Authorization header"))
        }
        if let tls = tlsConfig {
            for (field, reference, file) in [("ca", tls.ca != nil, tls.caFile), ("cert", tls.cert != nil, tls.certFile), ("keySecret", tls.keySecret != nil, tls.keyFile)] where reference && file != nil {
                problems.append(("\(path).tlsConfig.\(field)", "set either \(field) or its file, not both"))
            }
            if (tls.cert != nil || tls.certFile != nil) != (tls.keySecret != nil || tls.keyFile != nil) {
                problems.append(("\(path).tlsConfig", "a client certificate needs its key and a key its certificate: set both cert/certFile and keySecret/keyFile"))
            }
            for (field, reference) in [("ca", tls.ca), ("cert", tls.cert)] {
                if let reference, (reference.secret == nil) == (reference.configMap == nil) {
                    problems.append(("\(path).tlsConfig.\(field)", "set exactly one of secret or configMap"))
                }
            }
            if let min = tls.minVersion, let max = tls.maxVersion,
               let low = ScrapeTLSConfig.versions.firstIndex(of: min), let high = ScrapeTLSConfig.versions.firstIndex(of: max), low > high {
                problems.append(("\(path).tlsConfig.maxVersion", "\(max) is lower than minVersion \(min)"))
            }
        }
        if let authorization {
            if authorization.type?.lowercased() == "basic" {
                problems.append(("\(path).authorization.type", "Basic is not allowed here; use basicAuth"))
            }
            if authorization.credentials != nil && authorization.credentialsFile != nil {
                problems.append(("\(path).authorization", "set either credentials or credentialsFile, not both"))
            }
        }
        if let basicAuth {
            if basicAuth.password != nil && basicAuth.passwordFile != nil {
                problems.append(("\(path).basicAuth", "set either password or passwordFile, not both"))
            }
            if basicAuth.username == nil {
                problems.append(("\(path).basicAuth.username", "required: basic authentication needs a user name"))
            }
        }
        if bearerTokenSecret != nil && bearerTokenFile != nil {
            problems.append((path, "set either bearerTokenSecret or bearerTokenFile, not both"))
        }
        for (field, selector) in [("tlsConfig.keySecret", tlsConfig?.keySecret), ("authorization.credentials", authorization?.credentials),
                                  ("basicAuth.username", basicAuth?.username), ("basicAuth.password", basicAuth?.password),
                                  ("oauth2.clientSecret", oauth2?.clientSecret), ("bearerTokenSecret", bearerTokenSecret)] {
            if let selector, selector.name.isEmpty || selector.key.isEmpty {
                problems.append(("\(path).\(field)", "needs name and key"))
            }
        }
        if let oauth2, !(oauth2.tokenUrl.hasPrefix("http://") || oauth2.tokenUrl.hasPrefix("https://")) {
            problems.append(("\(path).oauth2.tokenUrl", "\"\(oauth2.tokenUrl)\" is not an http(s) URL"))
        }
        return problems
    }
}
