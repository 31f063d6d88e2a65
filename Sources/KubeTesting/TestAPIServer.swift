public import DataTree
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// A Kubernetes API server for tests and local runs, on loopback (HTTP/1.1, or HTTP/2 and
/// HTTP/1.1 by ALPN when serving TLS), that `kubectl` and
/// netwatch's client can both use (see DESIGN.md §5 for what it implements and what not).
///
/// Start it with `start(_:logger:)`; `state` gives tests direct access to storage and fault
/// injection; `stop()` shuts it down and ends open watches.
public final class TestAPIServer: Sendable {
    public struct Options: Sendable {
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        public var tls: TLSFiles?
        public var eventWindow: Int

        public init(host: String = "127.0.0.1", port: Int = 0, tls: TLSFiles? = nil, eventWindow: Int = 10_000) {
            self.host = host
            self.port = port
            self.tls = tls
            self.eventWindow = eventWindow
        }
    }

    /// PEM files for serving TLS; with `clientCA` every client must present a certificate it signed.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public var clientCA: String?

        public init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    public let state: ClusterState
    public let port: Int
    public let url: String
    private let task: Task<Void, any Error>
    private let group: ServiceGroup

    private init(state: ClusterState, port: Int, url: String, task: Task<Void, any Error>, group: ServiceGroup) {
        self.state = state
        self.port = port
        self.url = url
        self.task = task
        self.group = group
    }

    /// Starts serving and returns once the port is bound. `restoring` objects are in place
    /// (`ClusterState.restore`) before the first request is answered, as a server restored
    /// from a backup serves nothing until its store is ready; the messages for those that could
    /// not be created go to `problems`.
    public static func start(_ options: Options = Options(), restoring objects: [Node] = [], problems: (@Sendable ([String]) -> Void)? = nil,
                             logger: Logger = Logger(label: "netwatch-dev-apiserver")) async throws -> TestAPIServer {
        let state = ClusterState(eventWindow: options.eventWindow)
        if !objects.isEmpty {
            let refused = state.restore(objects)
            problems?(refused)
        }
        let scheme = options.tls == nil ? "http" : "https"
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        let responder = APIResponder(state: state, serverAddress: "\(options.host):\(options.port)")
        let server: HTTPServerBuilder
        if let files = options.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem)))
            if let clientCA = files.clientCA {
                configuration.certificateVerification = .noHostnameVerification
                configuration.trustRoots = .file(clientCA)
            }
            // HTTP/2 by ALPN with HTTP/1.1 as the fallback, as kube-apiserver offers.
            // Idle HTTP/2 connections (curl keeps them) must not hold up a graceful stop.
            server = try .http2Upgrade(tlsConfiguration: configuration, configuration: .init(idleTimeout: .seconds(30), gracefulCloseTimeout: .milliseconds(500)))
        } else {
            server = .http1()
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let application = Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port), serverName: "netwatch-dev-apiserver"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: quiet
        )
        let group = ServiceGroup(configuration: .init(services: [application], logger: quiet))
        let task = Task {
            do {
                try await group.run()
            } catch {
                portContinuation.finish()
                throw error
            }
        }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            _ = try await task.value
            throw TestAPIServerError(message: "the server did not start on \(options.host):\(options.port)")
        }
        let host = options.host.contains(":") ? "[\(options.host)]" : options.host
        return TestAPIServer(state: state, port: port, url: "\(scheme)://\(host):\(port)", task: task, group: group)
    }

    /// Stops serving; open watches end. Connections get `gracePeriod` to finish, then the
    /// server is cancelled (an HTTP/2 stream a client reset can otherwise hold it up).
    public func stop(gracePeriod: Duration = .seconds(2)) async {
        state.shutDown()
        await group.triggerGracefulShutdown()
        let task = self.task
        let watchdog = Task {
            try await Task.sleep(for: gracePeriod)
            task.cancel()
        }
        _ = try? await task.value
        watchdog.cancel()
    }

    /// A kubeconfig for this server (for kubectl and `netwatch operator --kubeconfig`).
    public func kubeconfig(token: String? = nil, certificateAuthority: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil, namespace: String = "default") -> String {
        var cluster = Mapping([("server", .string(url))])
        if let certificateAuthority { cluster["certificate-authority"] = .string(certificateAuthority) }
        var user = Mapping()
        if let token { user["token"] = .string(token) }
        if let clientCertificate { user["client-certificate"] = .string(clientCertificate) }
        if let clientKey { user["client-key"] = .string(clientKey) }
        let config: Node = [
            "apiVersion": "v1", "kind": "Config", "current-context": "netwatch-dev",
            "clusters": [["name": "netwatch-dev", "cluster": .mapping(cluster)]],
            "users": [["name": "netwatch-dev", "user": .mapping(user)]],
            "contexts": [["name": "netwatch-dev", "context": ["cluster": "netwatch-dev", "user": "netwatch-dev", "namespace": .string(namespace)]]],
        ]
        return JSONEmitter().emitString(config)
    }
}

public struct TestAPIServerError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension ClusterState {
    /// Creates manifests the way `kubectl create` would: CRDs first, then namespaces (missing
    /// namespaces are created for convenience), then the rest. Returns one message per object
    /// that could not be created; the others are created regardless.
    /// Starts this (new) server from saved objects, as a restore from a backup does: `load`s
    /// them, then moves the revision counter 1,000,000 past both its own count and the highest
    /// resourceVersion the objects carry (objects saved with `kubectl get -o yaml`), and keeps
    /// no history before that point — what `etcdutl snapshot restore --bump-revision 1000000
    /// --mark-compacted` does for kube-apiserver. So a client that watched the server before
    /// the restore never resumes into a different history (without the bump, a server that
    /// loaded as many objects reaches the same resourceVersions): a watch from an older
    /// resourceVersion gets 410 Expired and relists.
    public func restore(_ objects: [Node], manager: String = "netwatch-dev-apiserver") -> [String] {
        let problems = load(objects, manager: manager)
        let highestSaved = objects.compactMap { $0["metadata"]?["resourceVersion"]?.string.flatMap(Int.init) }.max() ?? 0
        advanceRevision(atLeast: max(currentRevision, highestSaved) + Self.restoreBump)
        compact()
        return problems
    }

    /// How far `restore` moves the revision counter.
    public static let restoreBump = 1_000_000

    public func load(_ objects: [Node], manager: String = "netwatch-dev-apiserver") -> [String] {
        func rank(_ node: Node) -> Int {
            switch node["kind"]?.string {
            case "CustomResourceDefinition": 0
            case "Namespace": 1
            default: 2
            }
        }
        var problems: [String] = []
        for object in objects.enumerated().sorted(by: { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }).map(\.element) {
            let apiVersion = object["apiVersion"]?.string ?? ""
            let kind = object["kind"]?.string ?? ""
            let name = object["metadata"]?["name"]?.string ?? ""
            let parts = apiVersion.split(separator: "/").map(String.init)
            let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", apiVersion)
            guard let type = resourceTypes.first(where: { $0.group == group && $0.kind == kind && $0.versions.contains(version) }) else {
                problems.append("\(apiVersion) \(kind) \(name): this server does not serve that kind (create its CRD first)")
                continue
            }
            var namespace: String?
            if type.namespaced {
                namespace = object["metadata"]?["namespace"]?.string ?? "default"
                if get(typeKey: "namespaces", namespace: nil, name: namespace!) == nil {
                    _ = create(typeKey: "namespaces", namespace: nil, body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace!)]], manager: manager)
                }
            }
            if case .failure(let failure) = create(typeKey: type.key, namespace: namespace, body: object, manager: manager) {
                problems.append("\(kind) \(namespace.map { "\($0)/" } ?? "")\(name): \(failure.message)")
            }
        }
        return problems
    }
}
