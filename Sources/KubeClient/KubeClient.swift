public import DataTree
import Foundation
public import Logging
import YAML
public import KubeModel

/// A typed Kubernetes API client for any group/version/resource, built-in or custom.
///
/// Guarantees:
/// - Every failure is an `APIError` (decoded from the server's Status, naming verb and
///   resource), a `TransportError`, a `DecodingFailure` (with byte offset) or a
///   `ConfigurationError`; nothing crashes on a bad body.
/// - A 401 re-reads the credentials once and retries; a 429 is retried after `Retry-After`;
///   reads that fail with a 5xx or a connection error are retried with exponential backoff.
///   Writes are never retried on 5xx (they may have happened).
/// - Objects decode straight into the caller's type (projections such as `Pod` keep only what
///   netwatch uses, so no managedFields are held).
public final class KubeClient: Sendable {
    public struct RetryPolicy: Sendable {
        public var maxThrottleRetries: Int
        public var maxServerErrorRetries: Int
        public var initialBackoff: Duration
        public var maxBackoff: Duration

        public init(maxThrottleRetries: Int = 10, maxServerErrorRetries: Int = 3, initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(30)) {
            self.maxThrottleRetries = maxThrottleRetries
            self.maxServerErrorRetries = maxServerErrorRetries
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }
    }

    public let configuration: KubeConfiguration
    public let retryPolicy: RetryPolicy
    /// Page size of `listAll` (client-go and kube-rs use 500).
    public let pageSize: Int
    let transport: any HTTPTransport
    let tokens: TokenSource
    let logger: Logger
    let userAgent: String
    /// Shares repeated strings (label keys and values, images, owners) among every object this
    /// client decodes; it keeps each distinct long string it has seen.
    public let stringInterner: StringInterner

    public init(configuration: KubeConfiguration, transport: any HTTPTransport, logger: Logger, retryPolicy: RetryPolicy = RetryPolicy(), pageSize: Int = 500, userAgent: String = "netwatch", stringInterner: StringInterner = StringInterner()) {
        self.stringInterner = stringInterner
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
        self.retryPolicy = retryPolicy
        self.pageSize = pageSize
        self.userAgent = userAgent
        tokens = TokenSource(credentials: configuration.credentials)
    }

    // MARK: reads

    public func get<T: Decodable & Sendable>(_ type: T.Type, _ resource: APIResource, namespace: String? = nil, name: String, subresource: String? = nil) async throws -> T {
        let path = resource.path(namespace: namespace, name: name, subresource: subresource)
        let response = try await perform(Call(verb: "get", method: "GET", resource: resource, namespace: namespace, name: name, path: path))
        return try decode(type, response.body, what: resource.kind, url: path)
    }

    /// One page (or the whole collection when `options.limit` is nil).
    public func list<T: Decodable & Sendable>(_ type: T.Type, _ resource: APIResource, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> ObjectList<T> {
        try decodePage(T.self, try await fetchPage(resource, namespace: namespace, options: options), resource: resource)
    }

    /// A list response's body and the path it came from.
    struct Page: Sendable {
        var body: [UInt8]
        var path: String
    }

    func fetchPage(_ resource: APIResource, namespace: String?, options: ListOptions) async throws -> Page {
        let path = resource.path(namespace: namespace) + PathEscaping.query(options.queryItems)
        return Page(body: try await perform(Call(verb: "list", method: "GET", resource: resource, namespace: namespace, path: path)).body, path: path)
    }

    func decodePage<T: Decodable & Sendable>(_ type: T.Type, _ page: Page, resource: APIResource) throws -> ObjectList<T> {
        do {
            return try decode(ObjectList<T>.self, page.body, what: "\(resource.kind)List", url: page.path)
        } catch let failure as DecodingFailure {
            // One item that cannot be decoded must not cost the others: read them one by one.
            guard let list = itemByItem(T.self, page.body, resource: resource) else { throw failure }
            return list
        }
    }

    /// A list page read item by item: items that decode are kept, the others become their
    /// stand-ins (`UnreadableStandIn`) or are left out, each logged. Nil when the page itself
    /// cannot be framed.
    func itemByItem<T: Decodable & Sendable>(_ type: T.Type, _ body: [UInt8], resource: APIResource) -> ObjectList<T>? {
        let skimmer = JSONSkimmer(body)
        guard let page = skimmer.value(at: 0), let members = skimmer.members(of: page) else { return nil }
        let metadata = members.first { $0.key == "metadata" }?.value
        let elements = members.first { $0.key == "items" }.flatMap { skimmer.elements(of: $0.value) } ?? []
        let decoder = jsonDecoder()
        var items: [T] = []
        for element in elements {
            let bytes = Array(body[element])
            do {
                items.append(try BodyDecoder.decode(T.self, from: bytes, using: decoder))
            } catch {
                guard let unreadable = UnreadableObject.skim(skimmer, element, problem: "\(error)") else { return nil }
                logger.error("an object the API server listed cannot be read; it is skipped until it changes", metadata: [
                    "kube.resource": "\(resource)", "kube.object": "\(unreadable)", "error": "\(unreadable.problem)",
                ])
                if let standIn = unreadable.standIn(as: T.self, resource: resource) { items.append(standIn) }
            }
        }
        let remaining = metadata.flatMap { skimmer.members(of: $0) }?.first { $0.key == "remainingItemCount" }.flatMap { Int(String(decoding: body[$0.value], as: UTF8.self)) }
        return ObjectList(items: items, resourceVersion: metadata.flatMap { skimmer.stringMember("resourceVersion", of: $0) } ?? "",
                          continueToken: metadata.flatMap { skimmer.stringMember("continue", of: $0) }.flatMap { $0.isEmpty ? nil : $0 }, remainingItemCount: remaining)
    }

    /// The whole collection in pages of `pageSize`, as one consistent snapshot. Continuation
    /// pages carry no resourceVersion (the server rejects it with continue); when a continue
    /// token expires (410) it falls back to one unpaginated list, as client-go's pager does,
    /// and never retries the same token.
    ///
    /// The next page is asked for before this one is decoded, so the server prepares and sends
    /// it while the client decodes (Kubernetes writes a list's metadata, with the token, before
    /// its items; a body that does not is decoded first and its token used then).
    public func listAll<T: Decodable & Sendable>(_ type: T.Type, _ resource: APIResource, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> ObjectList<T> {
        var first = options
        first.limit = first.limit ?? pageSize
        first.continueToken = nil
        func continuing(_ token: String) -> ListOptions {
            var next = options
            next.limit = first.limit
            next.continueToken = token
            next.resourceVersion = nil
            next.resourceVersionMatch = nil
            return next
        }
        var page = try await fetchPage(resource, namespace: namespace, options: first)
        var result: ObjectList<T>?
        while true {
            let early = ObjectListPrefix.continueToken(in: page.body)
            let prefetch = early.map { token in
                let next = continuing(token)
                return Task { try await self.fetchPage(resource, namespace: namespace, options: next) }
            }
            let decoded: ObjectList<T>
            do {
                decoded = try decodePage(T.self, page, resource: resource)
            } catch {
                prefetch?.cancel()
                throw error
            }
            if result == nil {
                result = decoded
                // Hold the items in one exactly sized buffer rather than one grown by doubling.
                if let remaining = decoded.remainingItemCount { result?.items.reserveCapacity(decoded.items.count + remaining) }
            } else {
                result?.items.append(contentsOf: decoded.items)
            }
            guard let token = decoded.continueToken, !token.isEmpty else { break }
            do {
                if let prefetch, early == token {
                    page = try await prefetch.value
                } else {
                    prefetch?.cancel()
                    page = try await fetchPage(resource, namespace: namespace, options: continuing(token))
                }
            } catch let error as APIError where error.isExpired {
                logger.info("continue token expired; listing again without pagination", metadata: ["kube.resource": "\(resource)"])
                var full = options
                full.limit = nil
                full.continueToken = nil
                return try await list(type, resource, namespace: namespace, options: full)
            }
        }
        result?.continueToken = nil
        result?.remainingItemCount = nil
        return result!
    }

    /// Opens a watch. The stream yields events until the server closes it (normally after
    /// `timeoutSeconds`), and ends with `APIError` on an ERROR event (410 → `isExpired`).
    /// HTTP errors at the start (410, 422 for a refused `sendInitialEvents`, 403 …) throw here.
    public func watch<T: Decodable & Sendable>(_ type: T.Type, _ resource: APIResource, namespace: String? = nil, options: WatchOptions = WatchOptions()) async throws -> WatchStream<T> {
        let path = resource.path(namespace: namespace) + PathEscaping.query(options.queryItems)
        let call = Call(verb: "watch", method: "GET", resource: resource, namespace: namespace, path: path)
        var request = try await makeRequest(call)
        // Idle detection: the server closes after timeoutSeconds; allow it a margin.
        request.timeout = options.timeoutSeconds.map { .seconds($0 + 5) }
        var response = try await transport.stream(request)
        if response.head.status == 401 {
            response.body.close()
            await tokens.invalidate()
            request = try await makeRequest(call)
            request.timeout = options.timeoutSeconds.map { .seconds($0 + 5) }
            response = try await transport.stream(request)
        }
        guard (200..<300).contains(response.head.status) else {
            var body: [UInt8] = []
            for try await chunk in response.body where body.count < 1 << 20 { body += chunk }
            throw apiError(call, HTTPResponse(head: response.head, body: body))
        }
        return WatchStream(chunks: response.body, url: configuration.server + path, resource: resource, namespace: namespace, maxLineBytes: 64 << 20, decoder: jsonDecoder())
    }

    // MARK: writes

    /// POST. `object` is the full object (apiVersion, kind, metadata …).
    public func create<T: Decodable & Sendable>(_ type: T.Type, _ resource: APIResource, namespace: String? = nil, object: Node, fieldManager: String? = nil, dryRun: Bool = false) async throws -> T {
        var query: [(String, String)] = []
        if let fieldManager { query.append(("fieldManager", fieldManager)) }
        if dryRun { query.append(("dryRun", "All")) }
        let path = resource.path(namespace: namespace) + PathEscaping.query(query)
        let response = try await perform(Call(verb: "create", method: "POST", resource: resource, namespace: namespace, name: object["metadata"]?["name"]?.string, path: path, body: JSONEmitter(style: .compact).emit(object), contentType: "application/json"))
        return try decode(type, response.body, what: resource.kind, url: path)
    }

    /// PUT. With `metadata.resourceVersion` set the write is conditional: a concurrent change
    /// makes it fail with a 409 (`APIError.isConflict`). `subresource: "status"` writes status only.
    public func replace<T: Decodable & Sendable>(_ type: T.Type, _ resource: APIResource, namespace: String? = nil, name: String, object: Node, subresource: String? = nil, fieldManager: String? = nil) async throws -> T {
        let query = fieldManager.map { [("fieldManager", $0)] } ?? []
        let path = resource.path(namespace: namespace, name: name, subresource: subresource) + PathEscaping.query(query)
        let verb = subresource == nil ? "update" : "update \(subresource!)"
        let response = try await perform(Call(verb: verb, method: "PUT", resource: resource, namespace: namespace, name: name, path: path, body: JSONEmitter(style: .compact).emit(object), contentType: "application/json"))
        return try decode(type, response.body, what: resource.kind, url: path)
    }

    /// PATCH with a JSON merge patch (RFC 7386) or a JSON patch (RFC 6902).
    public func patch<T: Decodable & Sendable>(_ type: T.Type, _ resource: APIResource, namespace: String? = nil, name: String, patch: Patch, subresource: String? = nil, fieldManager: String? = nil) async throws -> T {
        let query = fieldManager.map { [("fieldManager", $0)] } ?? []
        let path = resource.path(namespace: namespace, name: name, subresource: subresource) + PathEscaping.query(query)
        let response = try await perform(Call(verb: "patch", method: "PATCH", resource: resource, namespace: namespace, name: name, path: path, body: patch.body, contentType: patch.contentType))
        return try decode(type, response.body, what: resource.kind, url: path)
    }

    /// Server-side apply: `application/apply-patch+yaml` as `fieldManager`. Without `force`, a
    /// field another manager owns fails with 409 Conflict naming the fields; with `force`,
    /// ownership moves to this manager.
    public func apply<T: Decodable & Sendable>(_ type: T.Type, _ resource: APIResource, namespace: String? = nil, name: String, object: Node, fieldManager: String, force: Bool, subresource: String? = nil) async throws -> T {
        var query = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        let path = resource.path(namespace: namespace, name: name, subresource: subresource) + PathEscaping.query(query)
        // JSON is YAML, and the emitter is byte-stable, so unchanged input sends unchanged bytes.
        let response = try await perform(Call(verb: "apply", method: "PATCH", resource: resource, namespace: namespace, name: name, path: path, body: JSONEmitter(style: .compact).emit(object), contentType: "application/apply-patch+yaml"))
        return try decode(type, response.body, what: resource.kind, url: path)
    }

    /// Server-side apply of a manifest as it is — YAML or JSON bytes of one object, sent
    /// unchanged (`application/apply-patch+yaml`), so what is applied is byte for byte what
    /// was rendered. The object the server answers with is not decoded.
    public func applyManifest(_ resource: APIResource, namespace: String? = nil, name: String, manifest: [UInt8], fieldManager: String, force: Bool) async throws {
        var query = [("fieldManager", fieldManager)]
        if force { query.append(("force", "true")) }
        let path = resource.path(namespace: namespace, name: name) + PathEscaping.query(query)
        _ = try await perform(Call(verb: "apply", method: "PATCH", resource: resource, namespace: namespace, name: name, path: path, body: manifest, contentType: "application/apply-patch+yaml"))
    }

    /// DELETE with optional preconditions (uid, resourceVersion) and propagation policy.
    public func delete(_ resource: APIResource, namespace: String? = nil, name: String, preconditions: DeletePreconditions? = nil, propagation: PropagationPolicy? = nil) async throws {
        var options = Mapping([("apiVersion", "v1"), ("kind", "DeleteOptions")])
        if let preconditions {
            var node = Mapping()
            if let uid = preconditions.uid { node["uid"] = .string(uid) }
            if let version = preconditions.resourceVersion { node["resourceVersion"] = .string(version) }
            options["preconditions"] = .mapping(node)
        }
        if let propagation { options["propagationPolicy"] = .string(propagation.rawValue) }
        let path = resource.path(namespace: namespace, name: name)
        _ = try await perform(Call(verb: "delete", method: "DELETE", resource: resource, namespace: namespace, name: name, path: path, body: JSONEmitter(style: .compact).emit(.mapping(options)), contentType: "application/json"))
    }

    // MARK: plumbing

    struct Call: Sendable {
        var verb: String
        var method: String
        var resource: APIResource?
        var namespace: String?
        var name: String?
        var path: String
        var body: [UInt8]?
        var contentType: String?
        var isRead: Bool { method == "GET" }
    }

    func makeRequest(_ call: Call) async throws -> HTTPRequest {
        var headers = [HTTPHeader("Accept", "application/json"), HTTPHeader("User-Agent", userAgent)]
        if let contentType = call.contentType { headers.append(HTTPHeader("Content-Type", contentType)) }
        if let authorization = try await tokens.authorization() { headers.append(HTTPHeader("Authorization", authorization)) }
        return HTTPRequest(method: call.method, url: configuration.server + call.path, headers: headers, body: call.body, timeout: call.isRead && call.verb == "watch" ? nil : .seconds(60))
    }

    func perform(_ call: Call) async throws -> HTTPResponse {
        var throttled = 0
        var serverErrors = 0
        var reauthenticated = false
        var backoff = retryPolicy.initialBackoff
        while true {
            let request = try await makeRequest(call)
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch let error as TransportError where call.isRead && serverErrors < retryPolicy.maxServerErrorRetries
                && [.couldNotConnect, .receiveFailed, .sendFailed].contains(error.kind) {
                serverErrors += 1
                logger.debug("retrying after transport error", metadata: ["kube.verb": "\(call.verb)", "error": "\(error)"])
                try await Task.sleep(for: jittered(backoff))
                backoff = min(backoff * 2, retryPolicy.maxBackoff)
                continue
            }
            let status = response.head.status
            if (200..<300).contains(status) { return response }
            if status == 401 && !reauthenticated {
                reauthenticated = true
                await tokens.invalidate()
                continue
            }
            let error = apiError(call, response)
            if status == 429 && throttled < retryPolicy.maxThrottleRetries {
                throttled += 1
                let wait = error.retryAfterSeconds.map { Duration.seconds(min($0, 60)) } ?? jittered(backoff)
                logger.debug("throttled by the API server", metadata: ["kube.verb": "\(call.verb)", "retry_after": "\(wait)"])
                try await Task.sleep(for: wait)
                backoff = min(backoff * 2, retryPolicy.maxBackoff)
                continue
            }
            // A resourceVersion the server has not reached after its own wait is a history that
            // went back (a restore), not a hiccup: the caller relists instead of waiting more.
            if status >= 500 && call.isRead && !error.isResourceVersionTooLarge && serverErrors < retryPolicy.maxServerErrorRetries {
                serverErrors += 1
                try await Task.sleep(for: error.retryAfterSeconds.map { .seconds($0) } ?? jittered(backoff))
                backoff = min(backoff * 2, retryPolicy.maxBackoff)
                continue
            }
            throw error
        }
    }

    /// Full jitter between half and the whole backoff.
    private func jittered(_ duration: Duration) -> Duration {
        duration * Double.random(in: 0.5...1.0)
    }

    func apiError(_ call: Call, _ response: HTTPResponse) -> APIError {
        let retryAfter = response.head.header("Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        var status = (try? JSONDecoder().decode(Status.self, from: Data(response.body))) ?? Status()
        if status.message == nil {
            // Not a Status (an HTML page from a proxy, a truncated body): keep a printable excerpt.
            let excerpt = String(decoding: response.body.prefix(200), as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: " ")
            status.message = excerpt.isEmpty ? "HTTP \(response.head.status) with an empty body" : "HTTP \(response.head.status): \(excerpt)"
        }
        return APIError(verb: call.verb, resource: call.resource, namespace: call.namespace, name: call.name, code: response.head.status, status: status, retryAfterSeconds: retryAfter)
    }

    func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.userInfo[StringInterner.userInfoKey] = stringInterner
        return decoder
    }

    func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], what: String, url: String) throws -> T {
        if let discarded = Discarded() as? T { return discarded }
        do {
            return try BodyDecoder.decode(type, from: body, using: jsonDecoder())
        } catch {
            throw DecodingFailure(what: what, url: url, offset: DecodingFailure.offset(of: error), detail: "\(error)", bytes: body)
        }
    }
}

/// A response body the caller does not read (a status write): not decoded at all, so the
/// answer can never fail to decode after the server has done the write.
public struct Discarded: Decodable, Sendable {
    public init() {}
    public init(from decoder: any Decoder) throws {}
}

extension DecodingFailure {
    /// Foundation reports syntax errors with an "at offset N"/"around character N" text; keep N.
    static func offset(of error: any Error) -> Int {
        let text = "\(error)"
        for marker in ["offset ", "character "] {
            if let range = text.range(of: marker) {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let value = Int(digits) { return value }
            }
        }
        return 0
    }
}
