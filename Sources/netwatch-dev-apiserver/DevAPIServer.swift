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

    @Option(name: .customLong("load"), help: "Create the objects in these manifest files or directories at start (CRDs first, then namespaces).")
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
        let server = try await TestAPIServer.start(.init(host: host, port: port, tls: tls), logger: logger)
        if let token { server.state.setAcceptedTokens([token]) }
        if !load.isEmpty {
            let loaded = ManifestLoader().load(paths: load)
            for problem in loaded.fileErrors { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
            for diagnostic in loaded.diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
            let problems = server.state.load(loaded.objects.map(\.document))
            for problem in problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
            logger.info("loaded \(loaded.objects.count - problems.count) of \(loaded.objects.count) objects")
        }
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
