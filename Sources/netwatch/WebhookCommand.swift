import ArgumentParser
import ConfigGen
import Foundation
import KubeModel
import NetWatchAPI
import Logging
import Operator
import RenderIO

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Serve the sidecar-injection admission webhook over HTTPS with certificates from files.",
        discussion: """
            For clusters whose certificates come from cert-manager (or any files), and for tests. \
            POST /mutate takes an admission.k8s.io/v1 AdmissionReview; /healthz and /metrics are \
            served on the same port. The certificate and key are re-read every \
            --certificate-check-interval and served from the next handshake when they change. \
            SidecarInjectors (and Namespaces, for their labels) are read from --injectors at start; \
            pods of namespaces not given there count as selected by the webhook configuration's \
            namespace selector. Stops on SIGTERM or SIGINT.
            """
    )

    @Option(help: "HOST:PORT to serve HTTPS on.")
    var listen: String = "0.0.0.0:9443"

    @Option(name: .customLong("tls-cert"), help: "PEM certificate (chain) file.")
    var tlsCertificate: String

    @Option(name: .customLong("tls-key"), help: "PEM private key file.")
    var tlsKey: String

    @Option(name: .long, parsing: .upToNextOption, help: "Files or directories with SidecarInjectors and Namespaces.")
    var injectors: [String]

    @Option(name: .customLong("kubernetes-version"), help: "The cluster's version; from 1.29 sidecars are native.")
    var kubernetesVersion: String = "1.29"

    @Option(name: .customLong("operator-namespace"), help: "netwatch's own namespace, never injected.")
    var operatorNamespace: String = "netwatch-system"

    @Option(name: .customLong("certificate-check-interval"), help: "How often to re-read the certificate files, in seconds.")
    var certificateCheckInterval: Double = 10

    @Option(name: .customLong("log-format"), help: "json (one object per line, for log pipelines) or text.")
    var logFormat: String = "json"

    func run() async throws {
        try bootstrapLogging(logFormat)
        var logger = Logger(label: "netwatch-webhook")
        logger.logLevel = .info
        guard let address = try parseListenAddress(listen, option: "--listen") else {
            printError("error: --listen must be HOST:PORT")
            throw ExitCodes.unusableInput
        }
        guard let capabilities = SidecarInjection.Capabilities(kubernetesVersion: kubernetesVersion) else {
            printError("error: --kubernetes-version \(kubernetesVersion): expected MAJOR.MINOR, e.g. 1.30")
            throw ExitCodes.unusableInput
        }
        let loaded = ManifestLoader().load(paths: injectors)
        if !loaded.fileErrors.isEmpty {
            for error in loaded.fileErrors { printError("error: \(error)") }
            throw ExitCodes.unusableInput
        }
        let (snapshot, problems) = Snapshot.decode(loaded.objects)
        for diagnostic in (loaded.diagnostics + problems).sorted() { printError(diagnostic.description) }
        guard !snapshot.sidecarInjectors.isEmpty else {
            printError("error: no valid SidecarInjector under \(injectors.joined(separator: " ")); the webhook would inject nothing")
            throw ExitCodes.unusableInput
        }
        var labels: [String: [String: String]] = [:]
        for namespace in snapshot.namespaces { labels[namespace.metadata.name] = namespace.metadata.labels }
        let handler = AdmissionHandler(
            injectors: snapshot.sidecarInjectors.map(SidecarInjection.Injector.init), capabilities: capabilities,
            operatorNamespace: operatorNamespace, namespaceLabels: { [labels] in labels[$0] })
        let certificate: ServingCertificate
        do {
            certificate = try ServingCertificate(certificateFile: tlsCertificate, keyFile: tlsKey)
        } catch {
            printError("error: \(error)")
            throw ExitCodes.unusableInput
        }
        let server = WebhookServer(host: address.host, port: address.port, certificate: certificate,
                                   certificateCheckInterval: .milliseconds(Int(certificateCheckInterval * 1000)), logger: logger) { handler }
        logger.info("serving the admission webhook", metadata: [
            "webhook.address": "\(listen)", "webhook.injectors": "\(snapshot.sidecarInjectors.map(\.name).sorted())",
        ])
        try await runUntilSignalled(server, logger: logger)
    }
}
