public import Foundation

/// How to reach one API server: URL, TLS, credentials and the default namespace.
/// Built from the in-cluster service account or from kubeconfig files.
public struct KubeConfiguration: Sendable {
    public var server: String
    public var tls: TLSSettings
    public var credentials: Credentials
    public var namespace: String
    /// Where this came from, for messages (`in-cluster`, or the kubeconfig path and context).
    public var origin: String

    public init(server: String, tls: TLSSettings = TLSSettings(), credentials: Credentials = .none, namespace: String = "default", origin: String = "explicit") {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.tls = tls
        self.credentials = credentials
        self.namespace = namespace
        self.origin = origin
    }

    /// The files client-go's `rest.InClusterConfig` reads.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In-cluster configuration: `KUBERNETES_SERVICE_HOST`/`_PORT`, the service-account token
    /// (re-read from disk, so rotated tokens work), `ca.crt` and `namespace`.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = serviceAccountDirectory
    ) throws(ConfigurationError) -> KubeConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw ConfigurationError(file: nil, field: "KUBERNETES_SERVICE_HOST", message: "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; pass --kubeconfig")
        }
        let tokenPath = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw ConfigurationError(file: tokenPath, field: nil, message: "the service-account token is missing; is automountServiceAccountToken disabled for this pod?")
        }
        let caPath = directory + "/ca.crt"
        let namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubeConfiguration(
            server: "https://\(hostPart):\(port)",
            tls: TLSSettings(certificateAuthority: FileManager.default.fileExists(atPath: caPath) ? .file(caPath) : nil),
            credentials: .tokenFile(tokenPath),
            namespace: namespace?.isEmpty == false ? namespace! : "default",
            origin: "in-cluster service account"
        )
    }

    /// The configuration a user expects: an explicit kubeconfig path, else `$KUBECONFIG`
    /// (several files, merged), else in-cluster, else `~/.kube/config`.
    public static func load(
        kubeconfig: String? = nil, context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> KubeConfiguration {
        if let kubeconfig {
            return try Kubeconfig.load(paths: [kubeconfig]).resolve(context: context)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            return try Kubeconfig.load(paths: paths).resolve(context: context)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil, context == nil {
            return try inCluster(environment: environment)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return try Kubeconfig.load(paths: [home + "/.kube/config"]).resolve(context: context)
    }
}

/// How requests authenticate.
public enum Credentials: Sendable, Hashable {
    case none
    case bearerToken(String)
    /// Read from the file, re-read at least every minute and after every 401 (projected
    /// service-account tokens rotate).
    case tokenFile(String)
    case basic(username: String, password: String)
    /// A client-go exec credential plugin; its token is cached until `expirationTimestamp`.
    case exec(ExecCredentialPlugin)
}

/// `users[].user.exec` of a kubeconfig.
public struct ExecCredentialPlugin: Sendable, Hashable {
    public var command: String
    public var arguments: [String]
    public var environment: [String: String]
    public var apiVersion: String
    /// The kubeconfig the plugin was named in, for messages.
    public var source: String

    public init(command: String, arguments: [String] = [], environment: [String: String] = [:], apiVersion: String = "client.authentication.k8s.io/v1", source: String = "") {
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.apiVersion = apiVersion
        self.source = source
    }
}

/// A configuration that cannot be used: which file, which field, and what is wrong.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var field: String?
    public var message: String

    public init(file: String?, field: String?, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        var text = "error:"
        if let file { text += " \(file):" }
        if let field { text += " \(field):" }
        return text + " \(message)"
    }
}
