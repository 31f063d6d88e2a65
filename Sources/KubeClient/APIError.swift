/// A `metav1.Status` as the API server sends it with every failed request and in watch ERROR events.
public struct Status: Sendable, Hashable, Decodable {
    public struct Details: Sendable, Hashable, Decodable {
        public struct Cause: Sendable, Hashable, Decodable {
            public var reason: String?
            public var message: String?
            public var field: String?
        }
        public var name: String?
        public var group: String?
        public var kind: String?
        public var causes: [Cause]?
        public var retryAfterSeconds: Int?
    }
    public struct Metadata: Sendable, Hashable, Decodable {
        public var resourceVersion: String?
        public var `continue`: String?
    }

    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
    public var details: Details?
    public var metadata: Metadata?

    public init(status: String? = "Failure", message: String? = nil, reason: String? = nil, code: Int? = nil) {
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
    }
}

/// A request the API server answered with an error status.
///
/// `description` says what was attempted, on which resource, what the server said, and for the
/// common cases what to do about it (a 403 names the verb and resource the role must grant).
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var verb: String
    public var resource: APIResource?
    public var namespace: String?
    public var name: String?
    public var code: Int
    public var status: Status
    /// From the `Retry-After` header or `details.retryAfterSeconds`.
    public var retryAfterSeconds: Int?

    public init(verb: String, resource: APIResource?, namespace: String?, name: String?, code: Int, status: Status, retryAfterSeconds: Int? = nil) {
        self.verb = verb
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.code = code
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds ?? status.details?.retryAfterSeconds
    }

    public var reason: String { status.reason ?? "" }
    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    /// 410 with reason Expired (servers ≥ 1.18) or Gone (older): relist from scratch.
    public var isExpired: Bool { code == 410 || reason == "Expired" || reason == "Gone" }
    /// kube-apiserver has not reached the resourceVersion asked for (504 `Timeout` whose cause
    /// is `ResourceVersionTooLarge`; older servers only say "Too large resource version"): its
    /// history is behind the client's, e.g. after an etcd restore.
    public var isResourceVersionTooLarge: Bool {
        if status.details?.causes?.contains(where: { $0.reason == "ResourceVersionTooLarge" }) == true { return true }
        return (code == 504 || reason == "Timeout") && (status.message ?? "").contains("Too large resource version")
    }
    public var isTooManyRequests: Bool { code == 429 }
    public var isUnauthorized: Bool { code == 401 }
    public var isForbidden: Bool { code == 403 }
    public var isServerError: Bool { code >= 500 }

    private var target: String {
        var text = resource.map(\.description) ?? "resource"
        if let name { text += " \(name)" }
        if let namespace { text += " in namespace \(namespace)" }
        return text
    }

    public var description: String {
        let message = status.message ?? "HTTP \(code)"
        var text = "\(verb) \(target): \(message) (\(reason.isEmpty ? "HTTP \(code)" : "\(reason), HTTP \(code)"))"
        switch code {
        case 401: text += "; the credentials were rejected: check the token, client certificate or exec plugin of the kubeconfig user"
        case 403:
            let scope = namespace.map { "in namespace \($0)" } ?? "cluster-wide"
            text += "; the identity lacks '\(verb)' on '\(resource?.description ?? "this resource")' \(scope): grant it in netwatch's (Cluster)Role"
        case 409 where reason == "Conflict" && verb == "apply":
            text += "; another field manager owns these fields: apply with force to take them over"
        case 409: text += "; the object changed since it was read: read it again and retry"
        case 413: text += "; the request body is larger than the API server accepts (3 MiB): split the object"
        case 422: text += "; the object is invalid: fix the fields named above"
        default: break
        }
        if let causes = status.details?.causes, !causes.isEmpty {
            text += " [" + causes.map { [$0.field, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ") + "]"
        }
        return text
    }
}

/// A response body that is not what the API promises (truncated JSON, an HTML error page,
/// a malformed watch line): says where, and which bytes.
public struct DecodingFailure: Error, Sendable, CustomStringConvertible {
    public var what: String
    public var url: String
    /// Byte offset of the offending data in the response body (for watch lines: of the line).
    public var offset: Int
    public var detail: String
    /// The first bytes of the offending data, printable.
    public var excerpt: String

    public init(what: String, url: String, offset: Int, detail: String, bytes: some Collection<UInt8>) {
        self.what = what
        self.url = url
        self.offset = offset
        self.detail = detail
        let prefix = String(decoding: bytes.prefix(120), as: UTF8.self)
        excerpt = String(prefix.map { $0.isNewline ? " " : $0 })
    }

    public var description: String {
        "\(url): cannot decode \(what) at byte \(offset): \(detail); the data starts with: \(excerpt)"
    }
}
