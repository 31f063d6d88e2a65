import ConfigGen
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import NetWatchAPI
import Synchronization

/// Keeps the sidecar-injection webhook working: the injectors it serves (from the cache), its
/// CA and serving certificate (issued and renewed by the leader, or read from a Secret another
/// tool writes), the MutatingWebhookConfiguration and the injectors' status; and serves the
/// webhook itself on every replica.
///
/// Guarantees: every replica serves what the certificate Secret holds, so a standby answers
/// admission requests too; only the leader writes; the served injectors and namespace labels
/// are read at each request, so a change needs no restart.
final class WebhookReconciler: Sendable {
    /// There is one webhook: requests carry no key of their own.
    enum Request: Hashable, Sendable { case webhook }

    let context: OperatorContext
    let settings: NetwatchOperator.WebhookSettings
    let controller: Controller<Request, ContinuousClock>
    /// The valid SidecarInjectors, for the webhook.
    private let injectors = Mutex<[SidecarInjection.Injector]>([])
    /// Namespace labels from the watch, for the webhook's namespace selectors.
    private let namespaceLabels = Mutex<[String: [String: String]]>([:])

    init(context: OperatorContext, settings: NetwatchOperator.WebhookSettings) {
        self.context = context
        self.settings = settings
        controller = Controller(clock: ContinuousClock(), logger: context.logger)
    }

    /// Tracks namespace labels from the watch of namespaces.
    func trackNamespaceLabels(_ batch: [StoreChange<Node>]) {
        namespaceLabels.withLock { labels in
            for change in batch {
                switch change {
                case .added(let node), .updated(_, let node):
                    if let name = node["metadata"]?["name"]?.string { labels[name] = node["metadata"]?["labels"]?.stringValues ?? [:] }
                case .deleted(let node):
                    if let name = node["metadata"]?["name"]?.string { labels[name] = nil }
                }
            }
        }
    }

    static let mutatingWebhookConfigurations = APIResource(group: "admissionregistration.k8s.io", version: "v1", resource: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration", namespaced: false)

    /// Keeps the webhook's certificates, Secret, configuration and the injectors' status; returns
    /// when to look again (before the serving certificate is due for renewal).
    func reconcile() async throws -> ReconcileResult {
        guard await context.cache.isSynced() else { return .requeue(after: .milliseconds(200)) }
        let leading = await context.isLeading
        let stored = await context.cache.objects(of: NetWatchKind.sidecarInjector.resource)
        var injectors: [SidecarInjector] = []
        var problems: [ObjectReference: [Diagnostic]] = [:]
        for (reference, node) in stored {
            for object in ObjectReader.rawObjects(from: node, source: nil).0 {
                let (resource, diagnostics) = NetWatchKind.sidecarInjector.decode(object)
                problems[reference] = diagnostics
                if case .sidecarInjector(let injector)? = resource { injectors.append(injector) }
            }
        }
        injectors.sort { $0.name < $1.name }
        self.injectors.withLock { $0 = injectors.map(SidecarInjection.Injector.init) }

        // Certificates: the leader creates or renews them; every replica serves what the Secret holds.
        let namespace = settings.service.namespace
        var certificates = try await readSecret()
        let now = context.options.wallClock.now()
        let decision = certificates?.decision(service: settings.service.name, namespace: namespace, now: now) ?? .reissue
        if settings.certificates == .secret, certificates == nil {
            context.logger.warning("waiting for the webhook certificate Secret another tool writes", metadata: ["webhook.secret": "\(namespace)/\(settings.secretName)"])
            return .requeue(after: .seconds(10))
        }
        if leading, decision != .keep, settings.certificates == .operator {
            if decision == .renewServing, var renewed = certificates {
                try renewed.renewServing(service: settings.service.name, namespace: namespace, now: now)
                certificates = renewed
            } else {
                certificates = try WebhookCertificates.issue(service: settings.service.name, namespace: namespace, now: now)
            }
            if let certificates { try await writeSecret(certificates) }
            context.logger.info("webhook certificate \(decision == .reissue ? "issued" : "renewed")", metadata: ["webhook.secret": "\(namespace)/\(settings.secretName)"])
        }
        guard let certificates else { return .requeue(after: .seconds(2)) }  // a standby waits for the leader's Secret
        try writeServingFiles(certificates)

        if leading {
            let configuration = WebhookConfiguration.object(name: settings.configurationName, injectors: injectors, service: settings.service,
                                                            caBundle: certificates.caCertificatePEM, defaultFailurePolicy: settings.defaultFailurePolicy)
            let _: Node = try await context.client.apply(Node.self, Self.mutatingWebhookConfigurations, name: settings.configurationName, object: configuration,
                                                 fieldManager: ClusterApplier.fieldManager, force: true)
            let stamp = ISO8601DateFormatter().string(from: now)
            for (reference, node) in stored.sorted(by: { $0.key < $1.key }) {
                let mine = problems[reference] ?? []
                await context.events.record(mine, about: node)
                try await context.status.write(NetWatchKind.sidecarInjector.resource, reference, stored: node) { basis in
                    Self.injectorStatus(stored: basis, problems: mine, webhook: "\(reference.name).inject.netwatch.dev", now: stamp)
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

    func readSecret() async throws -> WebhookCertificates? {
        do {
            let secret = try await context.client.get(Node.self, .secrets, namespace: settings.service.namespace, name: settings.secretName)
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

    func writeSecret(_ certificates: WebhookCertificates) async throws {
        var data = Mapping()
        for (key, value) in certificates.secretData { data[key] = .string(Base64.encode(Array(value.utf8))) }
        let secret: Node = [
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": ["name": .string(settings.secretName), "namespace": .string(settings.service.namespace), "labels": ["app.kubernetes.io/managed-by": "netwatch"]],
            "data": .mapping(data),
        ]
        let _: Node = try await context.client.apply(Node.self, .secrets, namespace: settings.service.namespace, name: settings.secretName, object: secret,
                                             fieldManager: ClusterApplier.fieldManager, force: true)
    }

    /// Writes tls.crt and tls.key when they differ (key first, each by rename); the server
    /// refuses a pair whose key does not match, so a reader between the two keeps the old one.
    func writeServingFiles(_ certificates: WebhookCertificates) throws {
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
    func serve() async {
        let certificateFile = settings.certificateDirectory + "/tls.crt", keyFile = settings.certificateDirectory + "/tls.key"
        var certificate: ServingCertificate?
        while !Task.isCancelled, certificate == nil {
            certificate = try? ServingCertificate(certificateFile: certificateFile, keyFile: keyFile)
            if certificate == nil { try? await Task.sleep(for: .milliseconds(200)) }
        }
        guard let certificate else { return }
        let server = WebhookServer(host: settings.host, port: settings.port, certificate: certificate, certificateCheckInterval: .seconds(2),
                                   metrics: WebhookMetrics(registry: context.metrics.registry), logger: context.logger) { [self] in
            AdmissionHandler(injectors: injectors.withLock { $0 }, capabilities: settings.capabilities, operatorNamespace: settings.service.namespace,
                             namespaceLabels: { [self] namespace in namespaceLabels.withLock { $0[namespace] } })
        }
        do {
            try await server.run(onRunning: settings.onListening)
        } catch where !Task.isCancelled {
            context.logger.error("the admission webhook stopped", metadata: ["error": "\(error)"])
        } catch {
            return  // shutting down
        }
    }
}
