public import ConfigGen
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
public import NetWatchAPI
import Synchronization

extension NetwatchOperator {
    /// The in-cluster sidecar-injection webhook: served by every replica; its certificates,
    /// Secret and MutatingWebhookConfiguration kept by the leader.
    public struct WebhookSettings: Sendable {
        public var host: String
        public var port: Int
        /// The Service the API server calls (its DNS names go into the serving certificate).
        public var service: WebhookConfiguration.Service
        /// The Secret (in the Service's namespace) holding the CA and serving certificate.
        public var secretName: String
        public var configurationName: String
        /// Where the serving certificate is written for the server to read.
        public var certificateDirectory: String
        public var capabilities: SidecarInjection.Capabilities
        /// Called with the bound port once the server listens (port 0 picks one).
        public var onListening: @Sendable (Int) async -> Void
        /// The failure policy of injectors that set none.
        public var defaultFailurePolicy: SidecarInjectorSpec.FailurePolicy
        /// Who writes the certificate Secret.
        public var certificates: CertificateMode

        public enum CertificateMode: String, Sendable, CaseIterable {
            /// netwatch issues its CA and serving certificate and renews them.
            case `operator`
            /// Another tool (cert-manager) writes the Secret (ca.crt, tls.crt, tls.key); netwatch only reads it.
            case secret
        }

        public init(host: String = "0.0.0.0", port: Int = 9443, service: WebhookConfiguration.Service, secretName: String = "netwatch-webhook-tls",
                    configurationName: String = "netwatch-sidecar-injector", certificateDirectory: String,
                    capabilities: SidecarInjection.Capabilities = .init(nativeSidecars: true), onListening: @escaping @Sendable (Int) async -> Void = { _ in },
                    defaultFailurePolicy: SidecarInjectorSpec.FailurePolicy = .ignore, certificates: CertificateMode = .operator) {
            self.defaultFailurePolicy = defaultFailurePolicy
            self.certificates = certificates
            self.host = host
            self.port = port
            self.service = service
            self.secretName = secretName
            self.configurationName = configurationName
            self.certificateDirectory = certificateDirectory
            self.capabilities = capabilities
            self.onListening = onListening
        }
    }

    static let sidecarInjectors = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "sidecarinjectors", kind: "SidecarInjector", namespaced: false)
    static let mutatingWebhookConfigurations = APIResource(group: "admissionregistration.k8s.io", version: "v1", resource: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration", namespaced: false)

    /// Keeps the webhook's certificates, Secret, configuration and the injectors' status; returns
    /// when to look again (before the serving certificate is due for renewal).
    func reconcileWebhook(_ settings: WebhookSettings, leading: Bool) async throws -> ReconcileResult {
        var raw: [RawObject] = []
        var stored: [String: Node] = [:]
        for reflector in reflectors {
            for (_, node) in await reflector.snapshot().objects where node["kind"] == "SidecarInjector" {
                raw += ObjectReader.rawObjects(from: node, source: nil).0
                if let name = node["metadata"]?["name"]?.string { stored[name] = node }
            }
        }
        var injectors: [SidecarInjector] = []
        var problems: [String: [Diagnostic]] = [:]
        for object in raw {
            let (resource, diagnostics) = NetWatchKind.sidecarInjector.decode(object)
            problems[object.metadata.name] = diagnostics
            if case .sidecarInjector(let injector)? = resource { injectors.append(injector) }
        }
        webhookInjectors.withLock { $0 = injectors.map(SidecarInjection.Injector.init) }

        // Certificates: the leader creates or renews them; every replica serves what the Secret holds.
        let namespace = settings.service.namespace
        var certificates = try await readWebhookSecret(settings)
        let now = options.wallClock.now()
        let decision = certificates?.decision(service: settings.service.name, namespace: namespace, now: now) ?? .reissue
        if settings.certificates == .secret, certificates == nil {
            logger.warning("waiting for the webhook certificate Secret another tool writes", metadata: ["webhook.secret": "\(namespace)/\(settings.secretName)"])
            return .requeue(after: .seconds(10))
        }
        if leading, decision != .keep, settings.certificates == .operator {
            if decision == .renewServing, var renewed = certificates {
                try renewed.renewServing(service: settings.service.name, namespace: namespace, now: now)
                certificates = renewed
            } else {
                certificates = try WebhookCertificates.issue(service: settings.service.name, namespace: namespace, now: now)
            }
            if let certificates { try await writeWebhookSecret(certificates, settings) }
            logger.info("webhook certificate \(decision == .reissue ? "issued" : "renewed")", metadata: ["webhook.secret": "\(namespace)/\(settings.secretName)"])
        }
        guard let certificates else { return .requeue(after: .seconds(2)) }  // a standby waits for the leader's Secret
        try writeServingFiles(certificates, settings)

        if leading {
            let configuration = WebhookConfiguration.object(name: settings.configurationName, injectors: injectors, service: settings.service,
                                                            caBundle: certificates.caCertificatePEM, defaultFailurePolicy: settings.defaultFailurePolicy)
            let _: Node = try await client.apply(Node.self, Self.mutatingWebhookConfigurations, name: settings.configurationName, object: configuration,
                                                 fieldManager: ClusterApplier.fieldManager, force: true)
            let stamp = ISO8601DateFormatter().string(from: now)
            for (name, node) in stored.sorted(by: { $0.key < $1.key }) {
                let mine = problems[name] ?? []
                await events.record(mine, about: node)
                try await writeStatus(Self.sidecarInjectors, namespace: nil, name: name, stored: node) { basis in
                    Self.injectorStatus(stored: basis, problems: mine, webhook: "\(name).inject.netwatch.dev", now: stamp)
                }
            }
        }
        // Look again well before renewal is due, and at least hourly.
        return .requeue(after: .seconds(3600))
    }

    static func injectorStatus(stored: Node, problems: [Diagnostic], webhook: String, now: String) -> Node {
        let errors = problems.filter { $0.severity == .error }
        let message = errors.first.map { "\($0.field.map { "\($0): " } ?? "")\($0.message); this injector injects nothing" + (errors.count > 1 ? " (and \(errors.count - 1) more)" : "") }
            ?? "serving as webhook \(webhook)"
        var status = Mapping()
        if let generation = stored["metadata"]?["generation"] { status["observedGeneration"] = generation }
        let previous = stored["status"]?["conditions"]?.sequence ?? []
        status["conditions"] = [Condition.make("Accepted", errors.isEmpty, reason: errors.isEmpty ? "Accepted" : "InvalidConfiguration", message: message, previous: previous, now: now)]
        return .mapping(status)
    }

    func readWebhookSecret(_ settings: WebhookSettings) async throws -> WebhookCertificates? {
        do {
            let secret = try await client.get(Node.self, .secrets, namespace: settings.service.namespace, name: settings.secretName)
            guard case .mapping(let data)? = secret["data"] else { return nil }
            var decoded: [String: String] = [:]
            for entry in data {
                guard let text = entry.value.string, let bytes = Data(base64Encoded: text) else { continue }
                decoded[entry.key] = String(decoding: bytes, as: UTF8.self)
            }
            return WebhookCertificates(secretData: decoded)
        } catch let error as APIError where error.isNotFound {
            return nil
        }
    }

    func writeWebhookSecret(_ certificates: WebhookCertificates, _ settings: WebhookSettings) async throws {
        var data = Mapping()
        for (key, value) in certificates.secretData { data[key] = .string(Base64.encode(Array(value.utf8))) }
        let secret: Node = [
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": ["name": .string(settings.secretName), "namespace": .string(settings.service.namespace), "labels": ["app.kubernetes.io/managed-by": "netwatch"]],
            "data": .mapping(data),
        ]
        let _: Node = try await client.apply(Node.self, .secrets, namespace: settings.service.namespace, name: settings.secretName, object: secret,
                                             fieldManager: ClusterApplier.fieldManager, force: true)
    }

    /// Writes tls.crt and tls.key when they differ (key first, each by rename); the server
    /// refuses a pair whose key does not match, so a reader between the two keeps the old one.
    func writeServingFiles(_ certificates: WebhookCertificates, _ settings: WebhookSettings) throws {
        let directory = settings.certificateDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in [("tls.key", certificates.keyPEM), ("tls.crt", certificates.certificatePEM)] {
            let path = directory + "/" + name
            if FileManager.default.contents(atPath: path) == Data(text.utf8) { continue }
            let temporary = path + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ServingCertificateError(message: "cannot write \(temporary)")
            }
            guard rename(temporary, path) == 0 else { throw ServingCertificateError(message: "cannot rename \(temporary) to \(path)") }
        }
    }

    /// Serves the webhook once the serving certificate exists; injectors and namespace labels
    /// come from the watch caches at each request.
    func serveWebhook(_ settings: WebhookSettings) async {
        let certificateFile = settings.certificateDirectory + "/tls.crt", keyFile = settings.certificateDirectory + "/tls.key"
        var certificate: ServingCertificate?
        while !Task.isCancelled, certificate == nil {
            certificate = try? ServingCertificate(certificateFile: certificateFile, keyFile: keyFile)
            if certificate == nil { try? await Task.sleep(for: .milliseconds(200)) }
        }
        guard let certificate else { return }
        let server = WebhookServer(host: settings.host, port: settings.port, certificate: certificate, certificateCheckInterval: .seconds(2),
                                   metrics: WebhookMetrics(registry: metrics.registry), logger: logger) { [self] in
            AdmissionHandler(injectors: webhookInjectors.withLock { $0 }, capabilities: settings.capabilities, operatorNamespace: settings.service.namespace,
                             namespaceLabels: { [self] namespace in namespaceLabels.withLock { $0[namespace] } })
        }
        do {
            try await server.run(onRunning: settings.onListening)
        } catch where !Task.isCancelled {
            logger.error("the admission webhook stopped", metadata: ["error": "\(error)"])
        } catch {
            return  // shutting down
        }
    }
}
