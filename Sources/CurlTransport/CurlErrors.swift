internal import CCurl
import KubeClient

/// The one place curl return codes become errors a user can act on.
enum CurlErrors {
    static func translate(_ code: CURLcode, _ transfer: CurlTransfer) -> TransportError {
        let request = transfer.request
        let buffer = String(cString: transfer.errorBuffer)
        let detail = buffer.isEmpty ? String(cString: curl_easy_strerror(code)) : buffer
        if code == CURLE_SSL_CERTPROBLEM, buffer.contains("private key") {
            // OpenSSL's "unable to set private key file": a key that cannot be read, or one that
            // is not the certificate's. Say which settings to look at.
            return TransportError(kind: .tlsConfiguration, method: request.method, url: request.url,
                                  detail: "the client key cannot be used with the client certificate: it is unreadable or not the certificate's key (check the kubeconfig's client-key/client-key-data against client-certificate/client-certificate-data; curl said: \(buffer))")
        }
        if code == CURLE_WRITE_ERROR && transfer.isResponseTooLarge {
            return TransportError(kind: .responseTooLarge, method: request.method, url: request.url, detail: "the body exceeded the transport's response limit; use a paginated list")
        }
        return TransportError(kind: kind(of: code), method: request.method, url: request.url, detail: detail)
    }

    static func kind(of code: CURLcode) -> TransportError.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .couldNotResolve
        case CURLE_COULDNT_CONNECT: .couldNotConnect
        case CURLE_OPERATION_TIMEDOUT: .timedOut
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_SHUTDOWN_FAILED:
            .tls
        case CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CRL_BADFILE:
            .tlsConfiguration
        case CURLE_SEND_ERROR: .sendFailed
        case CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM,
             CURLE_WEIRD_SERVER_REPLY:
            .receiveFailed
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT: .invalidRequest
        case CURLE_ABORTED_BY_CALLBACK, CURLE_WRITE_ERROR: .cancelled
        default: .other
        }
    }

    /// A failed `curl_easy_setopt`: the option is named so a broken build or TLS file is obvious.
    static func setoptError(_ code: CURLcode, option: String, _ request: HTTPRequest) -> TransportError {
        let kind: TransportError.Kind = option.hasPrefix("SSL") || option.hasPrefix("CAINFO") ? .tlsConfiguration : .invalidRequest
        return TransportError(kind: kind, method: request.method, url: request.url, detail: "setting \(option): \(String(cString: curl_easy_strerror(code)))")
    }

    static func multiError(_ code: CURLMcode, _ request: HTTPRequest) -> TransportError {
        TransportError(kind: .other, method: request.method, url: request.url, detail: String(cString: curl_multi_strerror(code)))
    }
}
