internal import CCurl
public import KubeClient
public import Logging

/// `HTTPTransport` over libcurl: one multi handle on its own thread, HTTP/2 where the server
/// offers it (HTTP/1.1 otherwise), TLS verified against the configured CA unless
/// `insecureSkipVerify` is set (then a warning is logged once, when the transport is made).
///
/// Guarantees: `send` returns the whole body or throws a `TransportError` (or
/// `CancellationError` when the task is cancelled, which aborts the transfer); `stream`
/// returns after the response head and buffers at most `streamBufferBytes` of body for a
/// consumer that lags, pausing the transfer meanwhile.
public final class CurlTransport: HTTPTransport {
    public struct Options: Sendable {
        public var tls: TLSSettings
        public var connectTimeout: Duration
        /// Largest buffered response body; larger ones fail with `.responseTooLarge`.
        public var maxResponseBytes: Int
        /// Bytes a streaming response may hold before the transfer pauses.
        public var streamBufferBytes: Int

        public init(tls: TLSSettings = TLSSettings(), connectTimeout: Duration = .seconds(10), maxResponseBytes: Int = 1 << 30, streamBufferBytes: Int = 4 << 20) {
            self.tls = tls
            self.connectTimeout = connectTimeout
            self.maxResponseBytes = maxResponseBytes
            self.streamBufferBytes = streamBufferBytes
        }
    }

    private let options: Options
    private let loop: CurlMultiLoop
    /// Backpressure and other counters.
    public let statistics = TransportStatistics()

    public init(options: Options = Options(), logger: Logger) throws {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        self.options = options
        let tls = options.tls
        let connectTimeout = options.connectTimeout
        loop = try CurlMultiLoop { transfer in try CurlTransport.makeEasyHandle(for: transfer, tls: tls, connectTimeout: connectTimeout) }
        if options.tls.insecureSkipVerify {
            logger.warning("TLS verification of the API server is disabled (insecure-skip-tls-verify); anyone on the path can read and change traffic")
        }
    }

    deinit {
        loop.stop()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let loop = self.loop
        let transfer = CurlTransfer(request: request, mode: .buffered(maxBytes: options.maxResponseBytes), statistics: statistics) { loop.submit($0, $1) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.setCompletion(continuation)
                loop.submit(transfer, .start)
            }
        } onCancel: {
            transfer.cancel()
        }
    }

    public func stream(_ request: HTTPRequest) async throws -> StreamingResponse {
        let loop = self.loop
        let transfer = CurlTransfer(request: request, mode: .streaming(highWater: options.streamBufferBytes), statistics: statistics) { loop.submit($0, $1) }
        let head = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.setHeadWaiter(continuation)
                loop.submit(transfer, .start)
            }
        } onCancel: {
            transfer.cancel()
        }
        return StreamingResponse(head: head, body: ByteChunks(next: { try await transfer.nextChunk() }, cancel: { transfer.cancel() }))
    }

    /// Runs on the loop thread: a configured easy handle for one transfer.
    private static func makeEasyHandle(for transfer: CurlTransfer, tls: TLSSettings, connectTimeout: Duration) throws -> UnsafeMutableRawPointer {
        let request = transfer.request
        guard let easy = curl_easy_init() else {
            throw TransportError(kind: .other, method: request.method, url: request.url, detail: "curl_easy_init failed")
        }
        var ok = false
        defer { if !ok { curl_easy_cleanup(easy) } }
        func set(_ option: CURLoption, _ name: String, _ value: Int) throws {
            let code = ccurl_easy_setopt_long(easy, option, value)
            if code != CURLE_OK { throw CurlErrors.setoptError(code, option: name, request) }
        }
        func set(_ option: CURLoption, _ name: String, _ value: String) throws {
            let code = ccurl_easy_setopt_string(easy, option, value)
            if code != CURLE_OK { throw CurlErrors.setoptError(code, option: name, request) }
        }
        func setBlob(_ option: CURLoption, _ name: String, _ bytes: [UInt8]) throws {
            let code = bytes.withUnsafeBytes { ccurl_easy_setopt_blob(easy, option, $0.baseAddress, $0.count) }
            if code != CURLE_OK { throw CurlErrors.setoptError(code, option: name, request) }
        }

        try set(CURLOPT_URL, "URL", request.url)
        try set(CURLOPT_NOSIGNAL, "NOSIGNAL", 1)
        try set(CURLOPT_HTTP_VERSION, "HTTP_VERSION", Int(CURL_HTTP_VERSION_2TLS))
        try set(CURLOPT_CONNECTTIMEOUT_MS, "CONNECTTIMEOUT_MS", connectTimeout.milliseconds)
        try set(CURLOPT_TCP_KEEPALIVE, "TCP_KEEPALIVE", 1)
        if let timeout = request.timeout { try set(CURLOPT_TIMEOUT_MS, "TIMEOUT_MS", max(1, timeout.milliseconds)) }
        try set(CURLOPT_BUFFERSIZE, "BUFFERSIZE", 128 * 1024)

        switch request.method {
        case "GET": try set(CURLOPT_HTTPGET, "HTTPGET", 1)
        case "HEAD": try set(CURLOPT_NOBODY, "NOBODY", 1)
        default: try set(CURLOPT_CUSTOMREQUEST, "CUSTOMREQUEST", request.method)
        }
        if let body = request.body {
            try set(CURLOPT_POSTFIELDSIZE, "POSTFIELDSIZE", body.count)
            let code = body.withUnsafeBytes { ccurl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)) }
            if code != CURLE_OK { throw CurlErrors.setoptError(code, option: "COPYPOSTFIELDS", request) }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        // No "Expect: 100-continue" round trip before bodies.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            list = curl_slist_append(list, line)
        }
        transfer.headerList = list
        if let list {
            let code = ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
            if code != CURLE_OK { throw CurlErrors.setoptError(code, option: "HTTPHEADER", request) }
        }

        if let authority = tls.certificateAuthority {
            switch authority {
            case .file(let path): try set(CURLOPT_CAINFO, "CAINFO", path)
            case .data(let bytes): try setBlob(CURLOPT_CAINFO_BLOB, "CAINFO_BLOB", bytes)
            }
        }
        if let certificate = tls.clientCertificate {
            try set(CURLOPT_SSLCERTTYPE, "SSLCERTTYPE", "PEM")
            switch certificate {
            case .file(let path): try set(CURLOPT_SSLCERT, "SSLCERT", path)
            case .data(let bytes): try setBlob(CURLOPT_SSLCERT_BLOB, "SSLCERT_BLOB", bytes)
            }
        }
        if let key = tls.clientKey {
            try set(CURLOPT_SSLKEYTYPE, "SSLKEYTYPE", "PEM")
            switch key {
            case .file(let path): try set(CURLOPT_SSLKEY, "SSLKEY", path)
            case .data(let bytes): try setBlob(CURLOPT_SSLKEY_BLOB, "SSLKEY_BLOB", bytes)
            }
        }
        if tls.insecureSkipVerify {
            try set(CURLOPT_SSL_VERIFYPEER, "SSL_VERIFYPEER", 0)
            try set(CURLOPT_SSL_VERIFYHOST, "SSL_VERIFYHOST", 0)
        }

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = ccurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(transfer.errorBuffer))
        _ = ccurl_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback)
        _ = ccurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        _ = ccurl_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        _ = ccurl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        ok = true
        return easy
    }
}

/// curl's callbacks get the transfer back from the user-data pointer. The loop keeps the
/// transfer alive for as long as curl holds the handle, so unretained is safe.
private let curlWriteCallback: ccurl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
}

private let curlHeaderCallback: ccurl_data_callback = { data, size, count, context in
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
