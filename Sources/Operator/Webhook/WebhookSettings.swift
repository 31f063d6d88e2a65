public import ConfigGen
public import NetWatchAPI

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
}
