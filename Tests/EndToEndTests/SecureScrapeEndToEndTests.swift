import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KubeTesting
import Testing

/// Scrapes behind TLS and authentication, configured from Secret references as a user would:
/// kubectl applies Secrets, a ConfigMap with the CA and monitors to the test API server,
/// `netwatch operator --output-dir` renders, and the real Prometheus 2.42 scrapes a real
/// node_exporter that demands a client certificate and basic auth (its `--web.config.file`),
/// and a bearer-token endpoint.
@Suite("Scrapes with TLS and authentication end to end", .serialized)
struct SecureScrapeEndToEndTests {
    static let password = "e2e-basic-auth-password-never-logged"
    static let wrongPassword = "e2e-wrong-password-also-never-logged"
    static let token = "e2e-scrape-bearer-token-never-logged"
    /// In the reload URL: user info and a token parameter, which logs and status must redact.
    static let reloadPassword = "e2e-reload-url-password"
    static let reloadToken = "e2e-reload-url-token"

    /// bcrypt, as node_exporter's web configuration wants it (Python's crypt over libxcrypt).
    static func bcrypt(_ password: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-W", "ignore", "-c", "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", password]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let hash = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, hash.hasPrefix("$2") else { throw TestFailure("cannot make a bcrypt hash with python3's crypt module") }
        return hash
    }

    /// A metrics endpoint that answers only `Authorization: Bearer <token>` (401 otherwise).
    static let bearerServer = """
        import http.server, signal, sys
        # The test runner starts children with SIGTERM blocked; stop on it like the other servers.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        token = sys.argv[2]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.headers.get("Authorization") != "Bearer " + token:
                    self.send_response(401); self.end_headers(); return
                body = b"bearer_protected_up 1\\n"
                self.send_response(200); self.send_header("Content-Type", "text/plain; version=0.0.4"); self.end_headers(); self.wfile.write(body)
            def log_message(self, *args): pass
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
        """

    static func indent(_ text: String, _ spaces: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { String(repeating: " ", count: spaces) + $0 }.joined(separator: "\n")
    }

    static func pod(_ name: String, port: Int, app: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: secure, labels: {app: \(app)}}
        spec:
          containers:
          - {name: exporter, image: example/exporter, ports: [{name: metrics, containerPort: \(port)}]}
        status: {phase: Running, podIP: 127.0.0.1}
        """
    }

    static func authSecret(_ name: String, password: String) -> String {
        """
        apiVersion: v1
        kind: Secret
        metadata: {name: \(name), namespace: secure}
        stringData: {username: scraper, password: \(password)}
        """
    }

    /// (health, lastError) of the active targets of a job.
    static func targets(_ prometheus: PrometheusAPI, job: String) async throws -> [(String, String)] {
        let body = try await prometheus.get("/api/v1/targets")
        let active = ((body["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]]) ?? []
        return active.filter { ($0["scrapePool"] as? String) == job }.map { ($0["health"] as? String ?? "", $0["lastError"] as? String ?? "") }
    }

    @Test("mTLS with basic auth and a bearer token from Secret references: up == 1; a wrong password: up == 0 with Prometheus's error, fixed by editing the Secret; no secret in output, log or status")
    func secureScrapes() async throws {
        var ports: [Int] = []
        while ports.count < 4 { let port = freeLoopbackPort(); if !ports.contains(port) { ports.append(port) } }
        let (exporterPort, bearerPort, prometheusPort, healthPort) = (ports[0], ports[1], ports[2], ports[3])
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-secure-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var processes = ProcessGroup()
        defer { processes.stopAll() }

        let pki = try TestPKI.make()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let webConfig = work + "/web-config.yml"
        try """
            tls_server_config:
              cert_file: \(pki.path("server.crt"))
              key_file: \(pki.path("server.key"))
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: \(pki.path("ca.crt"))
            basic_auth_users:
              scraper: '\(try Self.bcrypt(Self.password))'
            """.write(toFile: webConfig, atomically: true, encoding: .utf8)
        try processes.start("/usr/bin/prometheus-node-exporter", [
            "--web.listen-address=127.0.0.1:\(exporterPort)", "--web.config.file=\(webConfig)", "--collector.disable-defaults", "--collector.netdev",
        ], log: work + "/node-exporter.log")
        try processes.start("/usr/bin/python3", ["-c", Self.bearerServer, String(bearerPort), Self.token])

        let server = try await TestAPIServer.start()
        let kubeconfig = work + "/kubeconfig"
        try server.kubeconfig(token: "api-token").write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let cluster = OperatorEndToEndTests.Cluster(kubeconfig: kubeconfig, cache: work + "/kubectl-cache")
        try await cluster.kubectl(["apply", "-f", OperatorEndToEndTests.repositoryRoot.appendingPathComponent("manifests/crds").path])
        let certificate = try String(contentsOfFile: pki.path("client.crt"), encoding: .utf8)
        let key = try String(contentsOfFile: pki.path("client.key"), encoding: .utf8)
        let ca = try String(contentsOfFile: pki.path("ca.crt"), encoding: .utf8)
        try await cluster.apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: secure}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: scrape-client, namespace: secure}
            stringData:
              tls.crt: |
            \(Self.indent(certificate, 4))
              tls.key: |
            \(Self.indent(key, 4))
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: scrape-ca, namespace: secure}
            data:
              ca.crt: |
            \(Self.indent(ca, 4))
            ---
            \(Self.authSecret("exporter-auth", password: Self.password))
            ---
            \(Self.authSecret("stale-auth", password: Self.wrongPassword))
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: api-token, namespace: secure}
            stringData: {token: \(Self.token)}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: stack, namespace: secure}
            spec:
              prometheus:
                scrapeInterval: 1s
                scrapeTimeout: 1s
                discovery: static
                version: 2.42.0
                output: {directory: /etc/prometheus}
                reload: {url: "http://admin:\(Self.reloadPassword)@127.0.0.1:\(prometheusPort)/-/reload?token=\(Self.reloadToken)"}
              monitorSelector: {}
            ---
            \(Self.monitor("node", app: "node", auth: "exporter-auth"))
            ---
            \(Self.monitor("stale", app: "node", auth: "stale-auth"))
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: token, namespace: secure}
            spec:
              selector: {matchLabels: {app: token}}
              endpoints: [{port: metrics, authorization: {credentials: {name: api-token, key: token}}}]
            ---
            \(Self.pod("node-exporter", port: exporterPort, app: "node"))
            ---
            \(Self.pod("token-api", port: bearerPort, app: "token"))
            """)

        let output = work + "/out"
        let log = work + "/operator.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let netwatch = Process()
        netwatch.executableURL = OperatorEndToEndTests.build.appendingPathComponent("netwatch")
        netwatch.arguments = ["operator", "--kubeconfig", kubeconfig, "--output-dir", output, "--health-address", "127.0.0.1:\(healthPort)",
                              "--credentials-interval", "1s"]
        netwatch.standardOutput = FileHandle.nullDevice
        netwatch.standardError = FileHandle(forWritingAtPath: log)
        try netwatch.run()
        defer { if netwatch.isRunning { netwatch.terminate(); netwatch.waitUntilExit() } }
        let base = output + "/secure/stack/prometheus"
        try await OperatorEndToEndTests.eventually("the operator wrote prometheus.yml and the credentials") {
            FileManager.default.fileExists(atPath: base + "/prometheus.yml") && FileManager.default.fileExists(atPath: base + "/credentials/secret_secure_api-token_token")
        }

        // Prometheus is not listening yet, so the first reload fails; wait for that failure to be
        // logged (with the URL redacted) before starting Prometheus, or the race decides the test.
        try await OperatorEndToEndTests.eventually("the operator logged the failed reload with its URL redacted") {
            OperatorEndToEndTests.file(log).contains("***@127.0.0.1")
        }

        try processes.start("/usr/bin/prometheus", ["--config.file=\(base)/prometheus.yml", "--storage.tsdb.path=\(work)/tsdb",
                                                   "--web.listen-address=127.0.0.1:\(prometheusPort)", "--web.enable-lifecycle"])
        let prometheus = PrometheusAPI(port: prometheusPort)
        try await prometheus.eventually("the mTLS + basic auth and the bearer targets are up (node_exporter's log: \(work)/node-exporter.log)") {
            let node = try await Self.targets(prometheus, job: "netwatch/secure/node/0").map(\.0)
            let token = try await Self.targets(prometheus, job: "netwatch/secure/token/0").map(\.0)
            return node == ["up"] && token == ["up"]
        }
        #expect(try await prometheus.query(#"up{job="secure/node"}"#) == ["1"])
        #expect(try await prometheus.query(#"node_network_receive_bytes_total{job="secure/node"}"#).count >= 1)
        #expect(try await prometheus.query(#"bearer_protected_up{job="secure/token"}"#) == ["1"])
        // The wrong password: down, with the error Prometheus reports.
        try await prometheus.eventually("the target with the stale password reports 401") {
            try await Self.targets(prometheus, job: "netwatch/secure/stale/0").contains { $0.0 == "down" && $0.1.contains("401 Unauthorized") }
        }

        // Credential files are the owner's only; prometheus.yml names them and holds no value.
        for name in try FileManager.default.contentsOfDirectory(atPath: base + "/credentials") {
            let attributes = try FileManager.default.attributesOfItem(atPath: base + "/credentials/" + name)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(name)")
        }
        let config = OperatorEndToEndTests.file(base + "/prometheus.yml")
        #expect(config.contains("password_file: credentials/secret_secure_exporter-auth_password"))
        #expect(config.contains("cert_file: credentials/secret_secure_scrape-client_tls.crt"))

        // Fixing the Secret reaches the scrape without touching any monitor.
        try await cluster.apply(Self.authSecret("stale-auth", password: Self.password))
        try await prometheus.eventually("the stale target is up after its Secret was fixed") {
            try await Self.targets(prometheus, job: "netwatch/secure/stale/0").map(\.0) == ["up"]
        }

        // No secret value in any output file but the credentials, the log, or a status.
        let secrets = [Self.password, Self.wrongPassword, Self.token, String(key.split(separator: "\n")[1]), Self.reloadPassword, Self.reloadToken]
        let enumerator = FileManager.default.enumerator(atPath: output)
        while let path = enumerator?.nextObject() as? String {
            guard !path.contains("/credentials/"), let data = FileManager.default.contents(atPath: output + "/" + path) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            #expect(!secrets.contains { text.contains($0) }, "\(path) holds a secret")
        }
        let logText = OperatorEndToEndTests.file(log)
        #expect(!logText.isEmpty)
        #expect(!secrets.contains { logText.contains($0) }, "the operator's log holds a secret")
        let status = try await cluster.kubectl(["get", "monitoringstacks,networkmonitors", "-n", "secure", "-o", "jsonpath={.items[*].status}"])
        let events = try await cluster.kubectl(["get", "events", "-n", "secure", "-o", "yaml"])
        #expect(status.contains("Reloaded"))
        #expect(!secrets.contains { status.contains($0) || events.contains($0) }, "a status or an Event holds a secret")
        netwatch.terminate()
        netwatch.waitUntilExit()
        await server.stop()
    }

    static func monitor(_ name: String, app: String, auth: String) -> String {
        """
        apiVersion: netwatch.dev/v1alpha1
        kind: NetworkMonitor
        metadata: {name: \(name), namespace: secure}
        spec:
          selector: {matchLabels: {app: \(app)}}
          endpoints:
          - port: metrics
            scheme: https
            tlsConfig:
              ca: {configMap: {name: scrape-ca, key: ca.crt}}
              cert: {secret: {name: scrape-client, key: tls.crt}}
              keySecret: {name: scrape-client, key: tls.key}
            basicAuth:
              username: {name: \(auth), key: username}
              password: {name: \(auth), key: password}
        """
    }
}
