import ArgumentParser
import Foundation
import KubeModel
import KubeTesting
import Logging
import RenderIO

/// `netwatch-dev-apiserver`: the project's test API server on its own, so a person can try
/// kubectl and `netwatch operator --kubeconfig` without a cluster.
@main
struct DevAPIServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netwatch-dev-apiserver",
        abstract: "A Kubernetes API server for development and tests (in memory, loopback only).",
        discussion: """
            Serves discovery, CRUD for built-in kinds and CRDs, list/watch, patches and server-side \
            apply. State lives in memory and is lost on exit. Not a real kube-apiserver: no \
            admission, no RBAC, no protobuf (use kubectl apply -f / create -f).
            """
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8001

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("load"), help: "Create the objects in these manifest files or directories at start (CRDs first, then namespaces). Like a restore from a backup (etcdutl --bump-revision 1000000 --mark-compacted): resourceVersions continue 1,000,000 above the highest one the files carry, with no history before the start, so clients of an earlier run relist.")
    var load: [String] = []

    @Option(name: .customLong("write-kubeconfig"), help: "Write a kubeconfig for this server to PATH.")
    var kubeconfigPath: String?

    @Option(help: "Accept only this bearer token (the kubeconfig written carries it).")
    var token: String?

    @Option(help: "Serve TLS with this certificate (PEM).")
    var tlsCertificate: String?

    @Option(help: "Private key of --tls-certificate (PEM).")
    var tlsKey: String?

    @Option(help: "Require client certificates signed by this CA (PEM).")
    var clientCA: String?

    func run() async throws {
        var logger = Logger(label: "netwatch-dev-apiserver")
        logger.logLevel = .info
        var tls: TestAPIServer.TLSFiles?
        if let tlsCertificate, let tlsKey {
            tls = TestAPIServer.TLSFiles(certificate: tlsCertificate, key: tlsKey, clientCA: clientCA)
        } else if tlsCertificate != nil || tlsKey != nil {
            throw ValidationError("--tls-certificate and --tls-key go together")
        }
        // Loaded before the port is served: no client sees a half-restored store.
        let loaded = load.isEmpty ? nil : ManifestLoader().load(paths: load)
        for problem in loaded?.fileErrors ?? [] { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
        for diagnostic in loaded?.diagnostics ?? [] { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
        let objects = loaded?.objects.map(\.document) ?? []
        let loadLogger = logger
        let server = try await TestAPIServer.start(.init(host: host, port: port, tls: tls), restoring: objects, problems: { problems in
            for problem in problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
            loadLogger.info("loaded \(objects.count - problems.count) of \(objects.count) objects")
        }, logger: logger)
        if let token { server.state.setAcceptedTokens([token]) }
        if let kubeconfigPath {
            try server.kubeconfig(token: token, certificateAuthority: tls == nil ? nil : clientCA ?? tlsCertificate).write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
            logger.info("wrote \(kubeconfigPath)")
        }
        FileHandle.standardOutput.write(Data("netwatch-dev-apiserver listening on \(server.url)\n".utf8))
        let signals = AsyncStream<Void> { continuation in
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber)
                source.setEventHandler { continuation.yield() }
                source.resume()
                nonisolated(unsafe) let retained = source
                continuation.onTermination = { _ in retained.cancel() }
            }
        }
        for await _ in signals { break }
        await server.stop()
    }
}
