public import DataTree
public import Flows
import KubeModel
import Foundation
public import KubeClient

/// Prometheus's HTTP query API (`/api/v1/query`, `/api/v1/query_range`) over netwatch's HTTP
/// transport: the Istio flow source and `netwatch dashboards preview` read through it.
public struct PrometheusQueryClient: Sendable {
    let transport: any HTTPTransport
    /// e.g. `http://prometheus.monitoring:9090`
    public let baseURL: String

    public init(transport: any HTTPTransport, baseURL: String) {
        self.transport = transport
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The URL of an API path with its parameters percent-encoded ("+" too, which a server
    /// would otherwise read as a space).
    public static func url(_ base: String, path: String, parameters: [(String, String)]) -> String? {
        var components = URLComponents(string: base + path)
        components?.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        let encoded = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = encoded
        return components?.url?.absoluteString
    }

    /// GETs an API path and returns the decoded JSON body (whatever its status field says).
    public func get(_ path: String, parameters: [(String, String)]) async -> Result<Node, Failure> {
        guard let url = Self.url(baseURL, path: path, parameters: parameters) else { return .failure(Failure(description: "\(RedactedURL.redacted(baseURL)) is not a URL")) }
        let response: HTTPResponse
        do {
            response = try await transport.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(60)))
        } catch {
            return .failure(Failure(description: "GET \(RedactedURL.redacted(baseURL))\(path): \(error)"))
        }
        guard let body = try? JSONReader().read(response.body) else {
            return .failure(Failure(description: "GET \(RedactedURL.redacted(baseURL))\(path): HTTP \(response.head.status), the body is not JSON"))
        }
        return .success(body)
    }

    /// An instant query evaluated at `time` (epoch milliseconds).
    public func query(_ expression: String, at time: Int64) async -> Result<Node, Failure> {
        await get("/api/v1/query", parameters: [("query", expression), ("time", "\(time / 1000).\(String(format: "%03d", Int(time % 1000)))")])
    }

    /// The Istio service graph over `window` ending at `time`.
    public func istioConnections(window: String, windowMilliseconds: Int64, at time: Int64) async -> Result<IstioServiceGraph.Decoded, Failure> {
        switch await query(IstioServiceGraph.query(window: window), at: time) {
        case .failure(let failure): return .failure(failure)
        case .success(let body):
            return IstioServiceGraph.decode(body, end: time, windowMilliseconds: windowMilliseconds).mapError { Failure(description: "\(RedactedURL.redacted(baseURL)): \($0.message)") }
        }
    }
}
