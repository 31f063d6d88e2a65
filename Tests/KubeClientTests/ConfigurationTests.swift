import DataTree
import Foundation
import KubeClient
import KubeTesting
import Testing

@Suite("Configuration: kubeconfig and in-cluster")
struct ConfigurationTests {
    @Test("KUBECONFIG files merge: first definition wins, first current-context wins, --context selects, paths resolve relative to their file")
    func mergedKubeconfig() throws {
        let directory = try temporaryDirectory()
        try "CA".write(to: directory.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        let first = directory.appendingPathComponent("a.yaml")
        let second = directory.appendingPathComponent("b.yaml")
        try """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: dev
          cluster: {server: "https://dev.example:6443", certificate-authority: ca.crt}
        users:
        - name: dev-user
          user: {token: first-token}
        contexts:
        - name: dev
          context: {cluster: dev, user: dev-user, namespace: shop}
        """.write(to: first, atomically: true, encoding: .utf8)
        try """
        current-context: prod
        clusters:
        - name: dev
          cluster: {server: "https://ignored.example"}
        - name: prod
          cluster: {server: "https://prod.example", certificate-authority-data: \(Data("PEM".utf8).base64EncodedString()), insecure-skip-tls-verify: false}
        users:
        - name: prod-user
          user: {client-certificate-data: \(Data("CERT".utf8).base64EncodedString()), client-key-data: \(Data("KEY".utf8).base64EncodedString())}
        contexts:
        - name: prod
          context: {cluster: prod, user: prod-user}
        """.write(to: second, atomically: true, encoding: .utf8)
        let environment = ["KUBECONFIG": "\(first.path):/nonexistent/skipped.yaml:\(second.path)"]
        let dev = try KubeConfiguration.load(environment: environment)
        #expect(dev.server == "https://dev.example:6443")
        #expect(dev.namespace == "shop")
        #expect(dev.credentials == .bearerToken("first-token"))
        #expect(dev.tls.certificateAuthority == .file(directory.appendingPathComponent("ca.crt").path))

        let prod = try KubeConfiguration.load(context: "prod", environment: environment)
        #expect(prod.server == "https://prod.example")
        #expect(prod.namespace == "default")
        #expect(prod.tls.certificateAuthority == .data(Array("PEM".utf8)))
        #expect(prod.tls.clientCertificate == .data(Array("CERT".utf8)))
        #expect(prod.tls.clientKey == .data(Array("KEY".utf8)))
        #expect(!prod.tls.insecureSkipVerify)
    }

    @Test("broken kubeconfigs name the file and the field", arguments: [
        ("clusters: [{name: c}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "clusters[0].cluster"),
        ("clusters: [{name: c, cluster: {server: ftp://x}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "clusters[0].cluster.server"),
        ("clusters: [{name: c, cluster: {server: https://x}}]\ncontexts: [{name: x, context: {cluster: c, user: nobody}}]\ncurrent-context: x", "contexts[0].context.user"),
        ("clusters: [{name: c, cluster: {server: https://x, certificate-authority-data: '%%%'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "clusters[0].cluster.certificate-authority-data"),
        ("clusters: [{name: c, cluster: {server: https://x}}]\ncontexts: [{name: x, context: {cluster: c}}]", "current-context"),
        ("clusters: [{name: c, cluster: {server: https://x}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: missing", "contexts"),
        ("clusters: {a: b}", "clusters"),
        ("clusters: [\n  - unbalanced", ""),
    ])
    func brokenKubeconfig(text: String, field: String) throws {
        let file = try temporaryDirectory().appendingPathComponent("config")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let error = try #require(throws: ConfigurationError.self) { _ = try KubeConfiguration.load(kubeconfig: file.path) }
        #expect(error.description.contains(file.path))
        if !field.isEmpty { #expect(error.field == field, "\(error)") }
    }

    @Test("a missing kubeconfig file is an error naming it")
    func missingFile() throws {
        let error = try #require(throws: ConfigurationError.self) { _ = try KubeConfiguration.load(kubeconfig: "/nonexistent/kubeconfig") }
        #expect(error.description.contains("/nonexistent/kubeconfig"))
    }

    @Test("in-cluster: service host and port, token file, CA and namespace from the service-account directory")
    func inCluster() throws {
        let directory = try temporaryDirectory()
        try "token-1\n".write(to: directory.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "CA".write(to: directory.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        try "monitoring\n".write(to: directory.appendingPathComponent("namespace"), atomically: true, encoding: .utf8)
        let configuration = try KubeConfiguration.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory.path)
        #expect(configuration.server == "https://10.96.0.1:443")
        #expect(configuration.namespace == "monitoring")
        #expect(configuration.credentials == .tokenFile(directory.appendingPathComponent("token").path))
        #expect(configuration.tls.certificateAuthority == .file(directory.appendingPathComponent("ca.crt").path))
        #expect(throws: ConfigurationError.self) { _ = try KubeConfiguration.inCluster(environment: [:], directory: directory.path) }
    }

    @Test("a rotated token file is picked up after a 401 (symlink swap, as kubelet rotates projected tokens)")
    func tokenRotation() async throws {
        let directory = try temporaryDirectory()
        let first = directory.appendingPathComponent("..2026_01")
        let second = directory.appendingPathComponent("..2026_02")
        try FileManager.default.createDirectory(at: first, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        try "old-token".write(to: first.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "new-token".write(to: second.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let data = directory.appendingPathComponent("..data")
        try FileManager.default.createSymbolicLink(atPath: data.path, withDestinationPath: first.lastPathComponent)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("token").path, withDestinationPath: "..data/token")

        try await withCluster(credentials: .tokenFile(directory.appendingPathComponent("token").path)) { cluster in
            cluster.server.state.setAcceptedTokens(["old-token"])
            _ = try await cluster.client.get(Node.self, .namespaces, name: "default")
            // Rotate: the server now accepts only the new token, and the link points at it.
            cluster.server.state.setAcceptedTokens(["new-token"])
            try FileManager.default.removeItem(at: data)
            try FileManager.default.createSymbolicLink(atPath: data.path, withDestinationPath: second.lastPathComponent)
            let namespace = try await cluster.client.get(Node.self, .namespaces, name: "default")
            #expect(namespace["metadata"]?["name"] == "default")
            let statuses = cluster.server.state.recordedRequests.count
            #expect(statuses == 3, "one success, one 401, one retry with the re-read token")

            cluster.server.state.setAcceptedTokens(["neither"])
            let error = try await #require(throws: APIError.self) { _ = try await cluster.client.get(Node.self, .namespaces, name: "default") }
            #expect(error.isUnauthorized)
            #expect(error.description.contains("credentials were rejected"))
        }
    }

    @Test("exec credential plugins: token used until it expires, then the plugin runs again")
    func execPlugin() async throws {
        let directory = try temporaryDirectory()
        let counter = directory.appendingPathComponent("count")
        let plugin = directory.appendingPathComponent("plugin.sh")
        try """
        #!/bin/sh
        n=$(cat "\(counter.path)" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "\(counter.path)"
        test -n "$KUBERNETES_EXEC_INFO" || exit 3
        # The first token expires at once; the second one far in the future.
        if [ $n -eq 1 ]; then exp=2000-01-01T00:00:00Z; else exp=2999-01-01T00:00:00Z; fi
        printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-%s","expirationTimestamp":"%s"}}' "$MY_PREFIX$n" "$exp"
        """.write(to: plugin, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugin.path)
        let kubeconfig = directory.appendingPathComponent("config")
        try """
        current-context: x
        clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
        users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, env: [{name: MY_PREFIX, value: p}]}}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        """.write(to: kubeconfig, atomically: true, encoding: .utf8)
        let configuration = try KubeConfiguration.load(kubeconfig: kubeconfig.path)
        guard case .exec(let execPlugin) = configuration.credentials else { Issue.record("expected an exec plugin"); return }
        #expect(execPlugin.command == plugin.path)

        try await withCluster(credentials: configuration.credentials) { cluster in
            cluster.server.state.setAcceptedTokens(["exec-p1", "exec-p2"])
            for _ in 0..<3 { _ = try await cluster.client.get(Node.self, .namespaces, name: "default") }
            #expect(try String(contentsOf: counter, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == "2", "run once, expired, run again, then cached")
        }
    }
}
