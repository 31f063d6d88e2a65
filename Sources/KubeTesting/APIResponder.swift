import DataTree
import Synchronization
import Foundation
import Hummingbird
import NIOCore
import YAML

/// Maps Kubernetes REST requests onto `ClusterState`: discovery, OpenAPI, CRUD, patches,
/// server-side apply, status subresources, list with selectors and pagination, and watch
/// streams (newline-delimited JSON, chunked) with bookmarks and `sendInitialEvents`.
struct APIResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let state: ClusterState
    let serverAddress: String
    static let maxBodyBytes = 3 * 1024 * 1024

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let query = Self.parseQuery(request.uri.query ?? "")
        let method = request.method.rawValue
        state.record(RecordedRequest(method: method, path: path, query: query, contentType: request.headers[.contentType]))

        if state.isStopped {
            var failure = APIFailure(code: 503, reason: "ServiceUnavailable", message: "the API server is shutting down")
            failure.retryAfter = 1
            return Self.failure(failure)
        }
        let faults = state.faults
        if let delay = faults.delay { try await Task.sleep(for: delay) }
        let isWatch = query["watch"] == "1" || query["watch"] == "true"
        if let failure = state.storage.withLock({ $0.faults.take(method: method, path: path, isWatch: isWatch) }) {
            var status = APIFailure(code: failure.status, reason: Self.reason(for: failure.status), message: "injected failure (HTTP \(failure.status))")
            status.retryAfter = failure.retryAfterSeconds
            return Self.failure(status)
        }

        let authorization = request.headers[.authorization]
        let token = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        if !["/healthz", "/readyz", "/livez"].contains(path), !state.isAuthorized(token: token) {
            return Self.failure(APIFailure(code: 401, reason: "Unauthorized", message: "Unauthorized"))
        }

        let segments = path.split(separator: "/").map(String.init)
        switch segments.first {
        case nil: return Self.json(["paths": ["/api", "/apis", "/openapi/v3", "/version", "/healthz"]])
        case "healthz", "readyz", "livez":
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "ok")))
        case "version": return Self.json(Discovery.version())
        case "openapi": return openAPI(segments)
        case "api":
            if segments.count == 1 { return Self.json(Discovery.coreVersions(serverAddress: serverAddress)) }
            return try await resourceRequest(request, group: "", version: segments[1], rest: Array(segments.dropFirst(2)), query: query)
        case "apis":
            if segments.count == 1 { return Self.json(Discovery.groupList(state.resourceTypes)) }
            if segments.count == 2 {
                guard let entry = Discovery.groups(state.resourceTypes).first(where: { $0.name == segments[1] }) else { return Self.notFound() }
                return Self.json(Discovery.group(entry))
            }
            return try await resourceRequest(request, group: segments[1], version: segments[2], rest: Array(segments.dropFirst(3)), query: query)
        default: return Self.notFound()
        }
    }

    private func openAPI(_ segments: [String]) -> Response {
        if segments.count == 2, segments[1] == "v2" {
            // kubectl asks for v2 only as protobuf, for client-side validation of kinds it cannot
            // check through v3 (e.g. items of a List). An empty v2 document (no definitions) makes
            // it skip that client-side check; the server still decodes every object.
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: Discovery.emptyOpenAPIv2Protobuf)))
        }
        guard segments.count >= 2, segments[1] == "v3" else { return Self.notFound() }
        if segments.count == 2 { return Self.json(Discovery.openAPIIndex(state.resourceTypes)) }
        if segments.count == 4, segments[2] == "api" { return Self.json(Discovery.openAPIDocument(group: "", version: segments[3], state.resourceTypes)) }
        if segments.count == 5, segments[2] == "apis" { return Self.json(Discovery.openAPIDocument(group: segments[3], version: segments[4], state.resourceTypes)) }
        return Self.notFound()
    }

    // MARK: resources

    private func resourceRequest(_ request: Request, group: String, version: String, rest: [String], query: [String: String]) async throws -> Response {
        if rest.isEmpty {
            guard state.resourceTypes.contains(where: { $0.group == group && $0.versions.contains(version) }) else { return Self.notFound() }
            return Self.json(Discovery.resourceList(group: group, version: version, state.resourceTypes))
        }
        var namespace: String?
        var remainder = rest
        if rest.count >= 3, rest[0] == "namespaces", state.resourceType(group: group, version: version, resource: rest[2]) != nil {
            namespace = rest[1]
            remainder = Array(rest.dropFirst(2))
        }
        guard let type = state.resourceType(group: group, version: version, resource: remainder[0]) else { return Self.notFound() }
        if !type.namespaced { namespace = nil }
        let name = remainder.count > 1 ? remainder[1] : nil
        let subresource = remainder.count > 2 ? remainder[2] : nil
        if let subresource, subresource != "status" || !type.hasStatus { return Self.notFound() }
        let method = request.method.rawValue
        let manager = query["fieldManager"] ?? Self.defaultManager(request)

        switch (method, name) {
        case ("GET", nil):
            // A resourceVersion this server has not reached (its history is behind the client's,
            // as after an etcd restore): kube-apiserver waits up to 3 s for it, then answers
            // 504 Timeout with the cause ResourceVersionTooLarge (an ERROR event on a watch).
            let isWatch = query["watch"] == "1" || query["watch"] == "true"
            if let requested = query["resourceVersion"].flatMap(Int.init), requested > 0, query["continue"] == nil,
               !(await state.waitForRevision(requested, upTo: .seconds(3))) {
                let failure = APIFailure.resourceVersionTooLarge(requested, current: state.currentRevision)
                if isWatch {
                    return Self.json(bytes: ClusterState.line(type: "ERROR", object: compactJSON(failure.status)))
                }
                return Self.failure(failure)
            }
            if isWatch { return watch(type: type, version: version, namespace: namespace, query: query) }
            return list(type: type, version: version, namespace: namespace, query: query)
        case ("GET", let name?):
            guard let stored = state.get(typeKey: type.key, namespace: namespace, name: name) else { return Self.failure(.notFound(type, name)) }
            return Self.json(bytes: stored.json)
        case ("POST", nil):
            let node: Node
            switch try await readBody(request, allowYAML: false) {
            case .failure(let failure): return Self.failure(failure)
            case .success(let body): node = body
            }
            return Self.result(state.create(typeKey: type.key, namespace: namespace, body: node, manager: manager), created: true)
        case ("PUT", let name?):
            let node: Node
            switch try await readBody(request, allowYAML: false) {
            case .failure(let failure): return Self.failure(failure)
            case .success(let body): node = body
            }
            if node["metadata"]?["name"]?.string != name {
                return Self.failure(APIFailure(code: 400, reason: "BadRequest", message: "the name of the object (\(node["metadata"]?["name"]?.string ?? "")) does not match the name on the URL (\(name))"))
            }
            return Self.result(state.update(typeKey: type.key, namespace: namespace, name: name, kind: .replace(node), subresource: subresource, manager: manager))
        case ("PATCH", let name?):
            return try await patch(request, type: type, namespace: namespace, name: name, subresource: subresource, query: query, manager: manager)
        case ("DELETE", let name?):
            let body = try await readBody(request, allowYAML: false, optional: true)
            let options: Node? = if case .success(let node) = body { node } else { nil }
            return Self.result(state.delete(typeKey: type.key, namespace: namespace, name: name, options: options))
        default:
            return Self.failure(APIFailure(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource"))
        }
    }

    private func patch(_ request: Request, type: ResourceType, namespace: String?, name: String, subresource: String?, query: [String: String], manager: String) async throws -> Response {
        let contentType = (request.headers[.contentType] ?? "").split(separator: ";").first.map { String($0).trimmingSpaces() } ?? ""
        let isApply = contentType == "application/apply-patch+yaml"
        let node: Node
        switch try await readBody(request, allowYAML: isApply) {
        case .failure(let failure): return Self.failure(failure)
        case .success(let body): node = body
        }
        let kind: ClusterState.UpdateKind
        switch contentType {
        case "application/apply-patch+yaml":
            guard query["fieldManager"] != nil else {
                return Self.failure(APIFailure(code: 400, reason: "BadRequest", message: "PATCH requests with apply content type require fieldManager"))
            }
            if state.get(typeKey: type.key, namespace: namespace, name: name) == nil {
                // Apply creates a missing object, but never through a subresource: a status
                // written for an object deleted meanwhile is a 404, as in kube-apiserver.
                if subresource != nil {
                    return Self.failure(APIFailure(code: 404, reason: "NotFound", message: "\(type.key) \"\(name)\" not found"))
                }
                var object = node
                if object["metadata"]?["name"] == nil { object = Patching.setting(.string(name), at: ["metadata", "name"], in: object) }
                return Self.result(state.create(typeKey: type.key, namespace: namespace, body: object, manager: manager, operation: "Apply"), created: true)
            }
            kind = .apply(node, force: query["force"] == "true")
        case "application/merge-patch+json", "application/strategic-merge-patch+json":
            // Strategic merge is served as a JSON merge patch: lists are replaced, not merged by key.
            kind = .mergePatch(node)
        case "application/json-patch+json":
            kind = .jsonPatch(node)
        default:
            return Self.failure(APIFailure(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"))
        }
        return Self.result(state.update(typeKey: type.key, namespace: namespace, name: name, kind: kind, subresource: subresource, manager: manager))
    }

    private func list(type: ResourceType, version: String, namespace: String?, query: [String: String]) -> Response {
        let labels: LabelSelectorQuery?
        let fields: FieldSelectorQuery?
        do {
            labels = try query["labelSelector"].flatMap { $0.isEmpty ? nil : try LabelSelectorQuery(parsing: $0) }
            fields = try query["fieldSelector"].flatMap { $0.isEmpty ? nil : try FieldSelectorQuery(parsing: $0) }
        } catch {
            return Self.failure(APIFailure(code: 400, reason: "BadRequest", message: "unable to parse requirement: \((error as? LabelSelectorQuery.ParseError)?.message ?? "\(error)")"))
        }
        if query["continue"].map({ !$0.isEmpty }) == true, let version = query["resourceVersion"], !version.isEmpty, version != "0" {
            return Self.failure(APIFailure(code: 400, reason: "BadRequest", message: "specifying resource version is not allowed when using continue"))
        }
        switch state.list(typeKey: type.key, namespace: namespace, labels: labels, fields: fields, limit: query["limit"].flatMap(Int.init), continueToken: query["continue"], resourceVersion: query["resourceVersion"]) {
        case .failure(let failure): return Self.failure(failure)
        case .success(let result):
            var out = Array(#"{"kind":""#.utf8) + Array("\(type.kind)List".utf8) + Array(#"","apiVersion":""#.utf8) + Array(type.apiVersion(version).utf8)
            out += Array(#"","metadata":{"resourceVersion":""#.utf8) + Array(String(result.revision).utf8) + Array("\"".utf8)
            if let token = result.continueToken { out += Array(#","continue":""#.utf8) + Array(token.utf8) + Array("\"".utf8) }
            if let remaining = result.remaining { out += Array(#","remainingItemCount":"#.utf8) + Array(String(remaining).utf8) }
            out += Array(#"},"items":["#.utf8)
            out.reserveCapacity(out.count + result.items.reduce(0) { $0 + $1.count + 1 })
            for (index, item) in result.items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += item
            }
            out += Array("]}\n".utf8)
            return Self.json(bytes: out)
        }
    }

    private func watch(type: ResourceType, version: String, namespace: String?, query: [String: String]) -> Response {
        let labels = try? query["labelSelector"].flatMap { $0.isEmpty ? nil : try LabelSelectorQuery(parsing: $0) }
        let fields = try? query["fieldSelector"].flatMap { $0.isEmpty ? nil : try FieldSelectorQuery(parsing: $0) }
        let sendInitialEvents = query["sendInitialEvents"] == "true"
        let faults = state.faults
        if sendInitialEvents && !faults.ignoreSendInitialEvents {
            if !faults.watchListEnabled {
                var failure = APIFailure(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")
                failure.causes = [("sendInitialEvents", "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled", "FieldValueForbidden")]
                return Self.failure(failure)
            }
            if query["allowWatchBookmarks"] != "true" || query["resourceVersionMatch"] != "NotOlderThan" {
                return Self.failure(APIFailure(code: 422, reason: "Invalid", message: "sendInitialEvents requires allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan"))
            }
        }
        let start = state.startWatch(type: type, version: version, namespace: namespace, labels: labels, fields: fields, resourceVersion: query["resourceVersion"], sendInitialEvents: sendInitialEvents && !faults.ignoreSendInitialEvents)
        let timeout = query["timeoutSeconds"].flatMap(Int.init).map { Duration.seconds($0) } ?? .seconds(1800)
        let bookmarks = query["allowWatchBookmarks"] == "true"
        let state = self.state
        let body = ResponseBody { writer in
            defer { state.stopWatch(start.id) }
            var written = 0
            let limit = faults.closeWatchesAfterEvents
            for line in start.initialLines {
                try await writer.write(ByteBuffer(bytes: line))
                written += 1
                if let limit, written >= limit { try await writer.finish(nil); return }
            }
            guard let stream = start.stream, let continuation = start.continuation else {
                try await writer.finish(nil)
                return
            }
            // Timers feed the same stream as the store, so one loop writes everything in order.
            let timers = Task {
                let clock = ContinuousClock()
                let deadline = clock.now + timeout
                var nextBookmark = clock.now + faults.bookmarkInterval
                while !Task.isCancelled {
                    let wake = bookmarks ? min(deadline, nextBookmark) : deadline
                    try? await Task.sleep(until: wake, clock: clock)
                    if Task.isCancelled { return }
                    if clock.now >= deadline { continuation.finish(); return }
                    if bookmarks && clock.now >= nextBookmark {
                        continuation.yield(.bookmark(revision: state.currentRevision))
                        nextBookmark = clock.now + faults.bookmarkInterval
                    }
                }
            }
            defer { timers.cancel() }
            for await message in stream {
                switch message {
                case .event(let type, let json):
                    try await writer.write(ByteBuffer(bytes: ClusterState.line(type: type, object: json)))
                    written += 1
                    if let limit, written >= limit { try await writer.finish(nil); return }
                case .bookmark(let revision):
                    try await writer.write(ByteBuffer(bytes: ClusterState.bookmark(type: type, version: version, revision: revision, initialEventsEnd: false)))
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache, private"], body: body)
    }

    // MARK: helpers

    private func readBody(_ request: Request, allowYAML: Bool, optional: Bool = false) async throws -> Result<Node, APIFailure> {
        let contentType = request.headers[.contentType] ?? ""
        if contentType.contains("protobuf") {
            return .failure(APIFailure(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (this development server does not speak protobuf; use kubectl apply -f or create -f with a manifest)"))
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maxBodyBytes)
        } catch {
            return .failure(APIFailure(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(Self.maxBodyBytes)"))
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.isEmpty {
            return optional ? .success(.null) : .failure(APIFailure(code: 400, reason: "BadRequest", message: "the request has no body"))
        }
        do {
            // kube-apiserver reads JSON nested up to 10,000 levels (and stores what it read).
            switch try YAMLParser(maxDepth: 10_000).parse(bytes, file: "request body").first?.node {
            case let node? where node.mapping != nil || node.sequence != nil: return .success(node)
            default: return .failure(APIFailure(code: 400, reason: "BadRequest", message: "the request body is not an object"))
            }
        } catch {
            return .failure(APIFailure(code: 400, reason: "BadRequest", message: "the request body is not valid \(allowYAML ? "YAML" : "JSON"): \(error)"))
        }
    }

    private static func defaultManager(_ request: Request) -> String {
        let agent = request.headers[.userAgent] ?? "unknown"
        return String(agent.split(separator: "/").first ?? "unknown")
    }

    static func parseQuery(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = decode(String(parts[0]))
            items[key] = parts.count > 1 ? decode(String(parts[1])) : ""
        }
        return items
    }

    private static func decode(_ text: String) -> String {
        let plus = text.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }

    static func reason(for status: Int) -> String {
        switch status {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 409: "Conflict"
        case 410: "Expired"
        case 429: "TooManyRequests"
        case 500: "InternalError"
        case 503: "ServiceUnavailable"
        case 504: "Timeout"
        default: "Unknown"
        }
    }

    static func json(_ node: Node) -> Response { json(bytes: compactJSON(node)) }

    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func notFound() -> Response {
        failure(APIFailure(code: 404, reason: "NotFound", message: "the server could not find the requested resource"))
    }

    static func failure(_ failure: APIFailure) -> Response {
        var response = json(bytes: compactJSON(failure.status), status: HTTPResponse.Status(code: failure.code))
        if let retryAfter = failure.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    static func result(_ result: Result<ClusterState.Stored, APIFailure>, created: Bool = false) -> Response {
        switch result {
        case .success(let stored): json(bytes: stored.json, status: created ? .created : .ok)
        case .failure(let failure): Self.failure(failure)
        }
    }
}
