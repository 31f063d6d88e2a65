import KubeModel

/// The HTTP layer under `KubeClient`, as a protocol so the client never sees libcurl
/// (`CurlTransport` implements it) and tests can see every request.

/// One header field. Names compare case-insensitively.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A request as the transport sends it: absolute URL, method, headers and an optional body.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]?
    /// Whole-request deadline, measured by the transport from the moment it starts the transfer.
    public var timeout: Duration?

    public init(method: String, url: String, headers: [HTTPHeader] = [], body: [UInt8]? = nil, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// Status line and headers of a response.
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var headers: [HTTPHeader]
    /// The protocol the server answered with, e.g. `HTTP/1.1` or `HTTP/2`.
    public var version: String

    public init(status: Int, headers: [HTTPHeader] = [], version: String = "HTTP/1.1") {
        self.status = status
        self.headers = headers
        self.version = version
    }

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// A complete, buffered response.
public struct HTTPResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: [UInt8]

    public init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}

/// The body of a streaming response as chunks in arrival order.
///
/// Guarantees: chunks arrive in order and are never empty; the transport holds a bounded
/// number of bytes for a consumer that lags and pauses the transfer until it catches up;
/// ending the iteration early (or cancelling the task) aborts the transfer.
public struct ByteChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    private let nextChunk: @Sendable () async throws -> [UInt8]?
    private let cancel: @Sendable () -> Void

    public init(next: @escaping @Sendable () async throws -> [UInt8]?, cancel: @escaping @Sendable () -> Void) {
        nextChunk = next
        self.cancel = cancel
    }

    /// Aborts the transfer; pending and later `next()` calls end with `CancellationError`.
    public func close() { cancel() }

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let nextChunk: @Sendable () async throws -> [UInt8]?
        public mutating func next() async throws -> [UInt8]? { try await nextChunk() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(nextChunk: nextChunk) }
}

/// A response whose body is still arriving (watches).
public struct StreamingResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: ByteChunks

    public init(head: HTTPResponseHead, body: ByteChunks) {
        self.head = head
        self.body = body
    }
}

/// What the transport could not do, in terms a user can act on.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case couldNotResolve = "could not resolve host"
        case couldNotConnect = "could not connect"
        case tls = "TLS handshake or certificate verification failed"
        case tlsConfiguration = "TLS configuration is invalid"
        case timedOut = "timed out"
        case cancelled = "cancelled"
        case sendFailed = "sending the request failed"
        case receiveFailed = "receiving the response failed"
        case responseTooLarge = "response too large"
        case invalidRequest = "invalid request"
        case other = "transfer failed"
    }

    public var kind: Kind
    public var method: String
    public var url: String
    /// The library's own detail, e.g. curl's error buffer.
    public var detail: String

    public init(kind: Kind, method: String, url: String, detail: String) {
        self.kind = kind
        self.method = method
        self.url = url
        self.detail = detail
    }

    public var description: String {
        let shown = RedactedURL.redacted(url)
        return detail.isEmpty ? "\(method) \(shown): \(kind.rawValue)" : "\(method) \(shown): \(kind.rawValue): \(detail)"
    }
}

/// Sends HTTP requests. Implementations are safe to share between tasks.
public protocol HTTPTransport: Sendable {
    /// Sends the request and returns the whole response. Non-2xx statuses are responses, not errors.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    /// Sends the request and returns once the response head has arrived; the body streams.
    func stream(_ request: HTTPRequest) async throws -> StreamingResponse
}

/// TLS settings of one API server connection (kubeconfig cluster + user, or in-cluster files).
public struct TLSSettings: Sendable, Hashable {
    /// PEM bundle of trusted CAs; nil means the system's trust store.
    public var certificateAuthority: PEMSource?
    public var clientCertificate: PEMSource?
    public var clientKey: PEMSource?
    /// Skip server verification. Only ever set from explicit configuration; logged once.
    public var insecureSkipVerify: Bool
    /// Overrides the name the server certificate is checked against (kubeconfig `tls-server-name`).
    public var serverName: String?

    public init(
        certificateAuthority: PEMSource? = nil, clientCertificate: PEMSource? = nil, clientKey: PEMSource? = nil,
        insecureSkipVerify: Bool = false, serverName: String? = nil
    ) {
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.insecureSkipVerify = insecureSkipVerify
        self.serverName = serverName
    }
}

/// PEM data given as a file path or inline bytes (kubeconfig `*-data` fields, decoded).
public enum PEMSource: Sendable, Hashable {
    case file(String)
    case data([UInt8])
}
