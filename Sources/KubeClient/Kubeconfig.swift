import DataTree
import Foundation
import YAML

/// Parsed kubeconfig files, merged the way kubectl merges `$KUBECONFIG`: for clusters, users
/// and contexts the first file that names an entry wins; the first non-empty
/// `current-context` wins. Relative file paths resolve against the file that names them.
public struct Kubeconfig: Sendable {
    struct Entry: Sendable {
        var name: String
        var body: Node
        var file: String
        var field: String
    }

    var clusters: [String: Entry] = [:]
    var users: [String: Entry] = [:]
    var contexts: [String: Entry] = [:]
    var currentContext: String?
    var files: [String] = []

    /// Reads and merges the files. Missing files in a multi-file `$KUBECONFIG` are skipped, as
    /// kubectl does; a single missing file, or none readable, is an error.
    public static func load(paths: [String]) throws(ConfigurationError) -> Kubeconfig {
        var config = Kubeconfig()
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                if paths.count == 1 { throw ConfigurationError(file: path, field: nil, message: "cannot read the kubeconfig file: it does not exist or is not readable") }
                continue
            }
            try config.merge(bytes: [UInt8](data), file: path)
        }
        if config.files.isEmpty {
            throw ConfigurationError(file: paths.joined(separator: ":"), field: nil, message: "none of the kubeconfig files exists")
        }
        return config
    }

    /// Parses one file's bytes and merges it in.
    public mutating func merge(bytes: [UInt8], file: String) throws(ConfigurationError) {
        let documents: [YAMLDocument]
        do {
            documents = try YAMLParser().parse(bytes, file: file)
        } catch {
            throw ConfigurationError(file: file, field: nil, message: "not valid YAML: \(error)")
        }
        files.append(file)
        guard let root = documents.first?.node, root != .null else { return }
        guard case .mapping(let top) = root else {
            throw ConfigurationError(file: file, field: nil, message: "a kubeconfig must be a mapping with clusters, users and contexts")
        }
        for (key, keyPath) in [("clusters", \Kubeconfig.clusters), ("users", \Kubeconfig.users), ("contexts", \Kubeconfig.contexts)] {
            guard let list = top[key], list != .null else { continue }
            guard case .sequence(let items) = list else {
                throw ConfigurationError(file: file, field: key, message: "must be a list")
            }
            let inner = String(key.dropLast())
            for (index, item) in items.enumerated() {
                let field = "\(key)[\(index)]"
                guard let name = item["name"]?.string, !name.isEmpty else {
                    throw ConfigurationError(file: file, field: "\(field).name", message: "every entry needs a name")
                }
                guard let body = item[inner], case .mapping = body else {
                    throw ConfigurationError(file: file, field: "\(field).\(inner)", message: "missing or not a mapping")
                }
                if self[keyPath: keyPath][name] == nil {
                    self[keyPath: keyPath][name] = Entry(name: name, body: body, file: file, field: "\(field).\(inner)")
                }
            }
        }
        if currentContext == nil, let current = top["current-context"]?.string, !current.isEmpty {
            currentContext = current
        }
    }

    /// The configuration of `context` (or the current context).
    public func resolve(context wanted: String? = nil) throws(ConfigurationError) -> KubeConfiguration {
        let fileList = files.joined(separator: ":")
        guard let contextName = wanted ?? currentContext else {
            throw ConfigurationError(file: fileList, field: "current-context", message: "no context is selected: set current-context or pass --context")
        }
        guard let context = contexts[contextName] else {
            let known = contexts.keys.sorted().joined(separator: ", ")
            throw ConfigurationError(file: fileList, field: "contexts", message: "context \"\(contextName)\" does not exist (known: \(known.isEmpty ? "none" : known))")
        }
        guard let clusterName = context.body["cluster"]?.string else {
            throw ConfigurationError(file: context.file, field: "\(context.field).cluster", message: "the context names no cluster")
        }
        guard let cluster = clusters[clusterName] else {
            throw ConfigurationError(file: context.file, field: "\(context.field).cluster", message: "cluster \"\(clusterName)\" does not exist")
        }
        guard let server = cluster.body["server"]?.string, !server.isEmpty else {
            throw ConfigurationError(file: cluster.file, field: "\(cluster.field).server", message: "the cluster has no server URL")
        }
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw ConfigurationError(file: cluster.file, field: "\(cluster.field).server", message: "\"\(server)\" is not an http(s) URL")
        }

        var tls = TLSSettings()
        tls.certificateAuthority = try pem(cluster, file: "certificate-authority", data: "certificate-authority-data")
        tls.insecureSkipVerify = cluster.body["insecure-skip-tls-verify"] == .bool(true)
        tls.serverName = cluster.body["tls-server-name"]?.string

        var credentials = Credentials.none
        if let userName = context.body["user"]?.string, !userName.isEmpty {
            guard let user = users[userName] else {
                throw ConfigurationError(file: context.file, field: "\(context.field).user", message: "user \"\(userName)\" does not exist")
            }
            tls.clientCertificate = try pem(user, file: "client-certificate", data: "client-certificate-data")
            tls.clientKey = try pem(user, file: "client-key", data: "client-key-data")
            if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
                throw ConfigurationError(file: user.file, field: "\(user.field).client-key", message: "client-certificate and client-key must be given together")
            }
            credentials = try self.credentials(of: user)
        }
        return KubeConfiguration(
            server: server, tls: tls, credentials: credentials,
            namespace: context.body["namespace"]?.string ?? "default",
            origin: "kubeconfig \(context.file), context \(contextName)"
        )
    }

    private func credentials(of user: Entry) throws(ConfigurationError) -> Credentials {
        if let token = user.body["token"]?.string, !token.isEmpty { return .bearerToken(token) }
        if let tokenFile = user.body["tokenFile"]?.string, !tokenFile.isEmpty {
            return .tokenFile(resolvePath(tokenFile, relativeTo: user.file))
        }
        if let exec = user.body["exec"], exec != .null {
            guard let command = exec["command"]?.string, !command.isEmpty else {
                throw ConfigurationError(file: user.file, field: "\(user.field).exec.command", message: "the exec plugin names no command")
            }
            let arguments = exec["args"]?.sequence?.compactMap(\.string) ?? []
            var environment: [String: String] = [:]
            for item in exec["env"]?.sequence ?? [] {
                if let name = item["name"]?.string { environment[name] = item["value"]?.string ?? "" }
            }
            let resolved = command.contains("/") ? resolvePath(command, relativeTo: user.file) : command
            return .exec(ExecCredentialPlugin(
                command: resolved, arguments: arguments, environment: environment,
                apiVersion: exec["apiVersion"]?.string ?? "client.authentication.k8s.io/v1",
                source: "\(user.file): \(user.field).exec"
            ))
        }
        if let username = user.body["username"]?.string, let password = user.body["password"]?.string {
            return .basic(username: username, password: password)
        }
        if user.body["auth-provider"] != nil {
            throw ConfigurationError(file: user.file, field: "\(user.field).auth-provider", message: "auth-provider plugins were removed from Kubernetes; use an exec credential plugin")
        }
        return .none
    }

    private func pem(_ entry: Entry, file fileKey: String, data dataKey: String) throws(ConfigurationError) -> PEMSource? {
        if let encoded = entry.body[dataKey]?.string, !encoded.isEmpty {
            guard let bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw ConfigurationError(file: entry.file, field: "\(entry.field).\(dataKey)", message: "not valid base64")
            }
            return .data([UInt8](bytes))
        }
        if let path = entry.body[fileKey]?.string, !path.isEmpty {
            let resolved = resolvePath(path, relativeTo: entry.file)
            guard FileManager.default.isReadableFile(atPath: resolved) else {
                throw ConfigurationError(file: entry.file, field: "\(entry.field).\(fileKey)", message: "cannot read \(resolved)")
            }
            return .file(resolved)
        }
        return nil
    }

    private func resolvePath(_ path: String, relativeTo file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : URL(fileURLWithPath: directory + "/" + path).standardizedFileURL.path
    }
}
