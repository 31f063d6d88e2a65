import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
import Testing
import YAML

/// TLS and authentication of scrapes: what reaches prometheus.yml (file paths only), where the
/// values go in each delivery mode, and what a missing reference does.
@Suite("Scrape TLS and authentication")
struct ScrapeSecurityTests {
    static let password = "s3cr3t-Pa55word"
    static let token = "tok-0123456789abcdef"
    static let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQ-private\n-----END PRIVATE KEY-----\n"

    static func snapshot(_ yaml: String, output: String = "{configMap: prom}", version: String = "3.1.0") throws -> (Snapshot, [Diagnostic]) {
        let text = """
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: s, namespace: mon}
            spec:
              prometheus: {output: \(output), version: "\(version)"}
              monitorSelector: {}
              monitorNamespaceSelector: {any: true}
              scrapeClasses:
              - {name: mesh, tlsConfig: {caFile: /etc/mesh/root.pem, certFile: /etc/mesh/cert.pem, keyFile: /etc/mesh/key.pem}}
              - {name: tokens, default: true, authorization: {credentialsFile: /var/run/secrets/token}, relabelings: [{targetLabel: class, replacement: tokens}]}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: db-auth, namespace: shop}
            stringData: {username: "scraper\\n", password: "\(password)", token: "\(token)"}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: db-client, namespace: shop}
            data: {tls.key: \(Base64.encode(Array(key.utf8)))}
            ---
            \(yaml)
            """
        let documents = try YAMLParser().parse(text, file: "t.yaml")
        let raws = documents.flatMap { ObjectReader.rawObjects(from: $0.node, source: SourceLocation(file: "t.yaml", line: $0.line)).0 }
        return Snapshot.decode(raws)
    }

    static let monitors = """
        apiVersion: netwatch.dev/v1alpha1
        kind: NetworkMonitor
        metadata: {name: db, namespace: shop}
        spec:
          selector: {}
          scrapeClass: mesh
          endpoints:
          - port: metrics
            scheme: HTTPS
            tlsConfig: {keySecret: {name: db-client, key: tls.key}, certFile: /etc/client.crt, serverName: db.shop.svc}
            basicAuth: {username: {name: db-auth, key: username}, password: {name: db-auth, key: password}}
          - port: admin
            authorization: {credentials: {name: db-auth, key: token}}
          - port: missing
            authorization: {credentials: {name: db-auth, key: nope}}
          - port: gone
            bearerTokenSecret: {name: not-there, key: token}
          - port: optional
            bearerTokenSecret: {name: not-there, key: token, optional: true}
        ---
        apiVersion: netwatch.dev/v1alpha1
        kind: NetworkMonitor
        metadata: {name: plain, namespace: shop}
        spec:
          selector: {}
          endpoints: [{port: metrics}, {port: web, authorization: {type: Token}}]
        """

    static func config(_ result: RenderResult) -> String {
        text(result.artifacts.first { $0.path == "mon/s/prometheus/prometheus.yml" })
    }

    static func job(_ config: String, _ name: String) -> String {
        guard let start = config.range(of: "- job_name: \(name)\n") else { return "" }
        let rest = config[start.upperBound...]
        let end = rest.range(of: "\n- job_name: ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    @Test("the operator's render: prometheus.yml names files, the values go into the stack's credentials Secret and nowhere else")
    func materializedIntoSecret() throws {
        var (snapshot, problems) = try Self.snapshot(Self.monitors, version: "2.42.0")
        #expect(problems.isEmpty, "\(problems)")
        snapshot.credentialsAuthoritative = true
        var options = RenderOptions()
        options.credentials = .materialized
        let result = render(snapshot, options: options)
        let config = Self.config(result)
        let db = Self.job(config, "netwatch/shop/db/0")
        // The endpoint's key, the class's CA, its own certificate file (kept over the class's).
        #expect(db.contains("ca_file: /etc/mesh/root.pem"))
        #expect(db.contains("cert_file: /etc/client.crt"))
        #expect(db.contains("key_file: credentials/secret_shop_db-client_tls.key"))
        #expect(db.contains("server_name: db.shop.svc"))
        #expect(db.contains("username: scraper\n"), "before 3.0 the user name is inlined, its trailing newline dropped: \(db)")
        #expect(db.contains("password_file: credentials/secret_shop_db-auth_password"))
        #expect(db.contains("scheme: https"))
        let admin = Self.job(config, "netwatch/shop/db/1")
        #expect(admin.contains("authorization:\n    type: Bearer\n    credentials_file: credentials/secret_shop_db-auth_token"))
        // Optional and missing: scraped without the header.
        #expect(!Self.job(config, "netwatch/shop/db/4").isEmpty)
        #expect(!Self.job(config, "netwatch/shop/db/4").contains("authorization"))
        // The default class: its token file for endpoints without authentication, its type kept otherwise.
        #expect(Self.job(config, "netwatch/shop/plain/0").contains("authorization:\n    type: Bearer\n    credentials_file: /var/run/secrets/token"))
        #expect(Self.job(config, "netwatch/shop/plain/1").contains("authorization:\n    type: Token\n    credentials_file: /var/run/secrets/token"))
        #expect(Self.job(config, "netwatch/shop/plain/0").contains("target_label: class"))

        // A missing key or Secret skips that endpoint only, naming object, field and Secret.
        #expect(!config.contains("netwatch/shop/db/2") && !config.contains("netwatch/shop/db/3"))
        let messages = result.diagnostics.map(\.description)
        #expect(messages.contains { $0.contains("NetworkMonitor shop/db: spec.endpoints[2].authorization.credentials: Secret shop/db-auth has no key nope") }, "\(messages)")
        #expect(messages.contains { $0.contains("NetworkMonitor shop/db: spec.endpoints[3].bearerTokenSecret: Secret shop/not-there does not exist") }, "\(messages)")

        let secret = try #require(result.artifacts.first { $0.path == "mon/s/kubernetes/secret-prom-credentials.yaml" })
        #expect(secret.role == .credentialsManifest && secret.isSensitive)
        let object = try #require(try YAMLParser().parse(secret.bytes, file: "secret").first?.node)
        #expect(object["data"]?["secret_shop_db-auth_password"]?.string == Base64.encode(Array(Self.password.utf8)))
        #expect(object["data"]?["secret_shop_db-client_tls.key"]?.string == Base64.encode(Array(Self.key.utf8)))
        #expect(object["metadata"]?["namespace"] == "mon")
        // No value in clear text or base64 anywhere else, nor in a diagnostic.
        for artifact in result.artifacts where artifact.path != secret.path {
            let content = String(decoding: artifact.bytes, as: UTF8.self)
            for value in [Self.password, Self.token, "MIIEvQ-private", Base64.encode(Array(Self.password.utf8))] {
                #expect(!content.contains(value), "\(artifact.path) holds a credential")
            }
        }
        #expect(!messages.contains { $0.contains(Self.password) || $0.contains(Self.token) })
    }

    @Test("a directory output gets owner-only credential files beside prometheus.yml")
    func materializedIntoFiles() throws {
        var (snapshot, _) = try Self.snapshot(Self.monitors, output: "{directory: /etc/prometheus}")
        snapshot.credentialsAuthoritative = true
        var options = RenderOptions()
        options.credentials = .materialized
        let result = render(snapshot, options: options)
        let file = try #require(result.artifacts.first { $0.path == "mon/s/prometheus/credentials/secret_shop_db-auth_password" })
        #expect(file.bytes == Array(Self.password.utf8))
        #expect(file.role == .credential && file.isSensitive)
        #expect(!result.artifacts.contains { $0.path.hasSuffix("credentials.yaml") })
    }

    @Test("netwatch render never writes a value, even of a Secret among its inputs: it lists what to mount")
    func listedByRender() throws {
        let (snapshot, _) = try Self.snapshot(Self.monitors)
        let result = render(snapshot)
        #expect(!result.artifacts.contains { $0.role == .credential || $0.role == .credentialsManifest })
        let list = try #require(result.artifacts.first { $0.path == "mon/s/prometheus/credentials.yaml" })
        let files = try #require(try YAMLParser().parse(list.bytes, file: "list").first?.node["files"]?.sequence)
        #expect(files.compactMap { $0["file"]?.string } == [
            "credentials/secret_shop_db-auth_password", "credentials/secret_shop_db-auth_token", "credentials/secret_shop_db-auth_username",
            "credentials/secret_shop_db-client_tls.key", "credentials/secret_shop_not-there_token",
        ])
        #expect(Self.job(Self.config(result), "netwatch/shop/db/0").contains("username_file: credentials/secret_shop_db-auth_username"))
        for artifact in result.artifacts {
            let content = String(decoding: artifact.bytes, as: UTF8.self)
            #expect(!content.contains(Self.password) && !content.contains(Self.token) && !content.contains("MIIEvQ-private"), "\(artifact.path)")
        }
        // Before 3.0 the user name would have to be written into prometheus.yml: render refuses.
        let old = render(try Self.snapshot(Self.monitors, version: "2.42.0").0)
        #expect(old.diagnostics.contains { $0.field == "spec.endpoints[0].basicAuth.username" && $0.message.contains("before 3.0") })
        #expect(!Self.config(old).contains("netwatch/shop/db/0"))
        // An absent Secret is not an error here: it is mounted in the cluster.
        let unknown = try Self.snapshot("""
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: x, namespace: shop}
            spec: {selector: {}, endpoints: [{port: m, bearerTokenSecret: {name: elsewhere, key: t}}]}
            """).0
        let unknownResult = render(unknown)
        #expect(!unknownResult.hasErrors, "\(unknownResult.diagnostics)")
        #expect(Self.job(Self.config(unknownResult), "netwatch/shop/x/0").contains("credentials_file: credentials/secret_shop_elsewhere_t"))
    }

    @Test("a monitor naming an unknown scrape class is skipped for that stack, with the classes there are")
    func unknownClass() throws {
        let (snapshot, _) = try Self.snapshot("""
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: x, namespace: shop}
            spec: {selector: {}, scrapeClass: nope, endpoints: [{port: m}]}
            """)
        let result = render(snapshot)
        #expect(!Self.config(result).contains("netwatch/shop/x"))
        #expect(result.diagnostics.contains { $0.field == "spec.scrapeClass" && $0.message.contains("\"nope\" is not a scrape class of MonitoringStack mon/s (it has mesh, tokens)") })
    }

    @Test("invalid settings are rejected at decode with their field: two auth methods, a certificate without key, Basic as authorization type, files in a class")
    func validation() throws {
        let (_, problems) = try Self.snapshot("""
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: x, namespace: shop}
            spec:
              selector: {}
              endpoints:
              - {port: a, basicAuth: {username: {name: s, key: u}}, authorization: {credentials: {name: s, key: t}}}
              - {port: b, tlsConfig: {cert: {secret: {name: s, key: c}}}}
              - {port: c, authorization: {type: Basic}}
              - {port: d, tlsConfig: {minVersion: TLS13, maxVersion: TLS12}}
            ---
            apiVersion: netwatch.dev/v1alpha1
            kind: MonitoringStack
            metadata: {name: t, namespace: mon}
            spec: {scrapeClasses: [{name: c, tlsConfig: {ca: {secret: {name: s, key: k}}}}, {name: c}]}
            """)
        let fields = problems.compactMap(\.field)
        #expect(fields.contains("spec.endpoints[0]"))
        #expect(fields.contains("spec.endpoints[1].tlsConfig"))
        #expect(fields.contains("spec.endpoints[2].authorization.type"))
        #expect(fields.contains("spec.endpoints[3].tlsConfig.maxVersion"))
        #expect(fields.contains("spec.scrapeClasses[0].tlsConfig"))
        #expect(fields.contains("spec.scrapeClasses[1].name"))
    }
}
