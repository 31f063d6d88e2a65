import ConfigGen
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KubeModel
import KubeTesting
import NetWatchAPI
import RenderIO
import Testing

/// NetworkProbes rendered by `render()`, run by Debian's blackbox_exporter on the modules file
/// netwatch wrote, scraped by the real Prometheus through the jobs netwatch wrote — against
/// loopback servers the test starts: TCP to an open and a closed port, HTTP 200 and 503, ICMP
/// to 127.0.0.1, DNS for a name a local resolver knows and one it does not, and a TLS server
/// whose certificate expires in two days. The `probes` alert pack (its `for` shortened) fires
/// exactly for the failing targets, and every query of the `probes` dashboard preset returns
/// data from that Prometheus.
@Suite("NetworkProbes end to end with blackbox_exporter and Prometheus", .serialized)
struct ProbeEndToEndTests {
    static let httpServer = """
        import http.server, signal, sys
        # The test runner starts children with SIGTERM blocked; stop on it like the other servers.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                ok = self.path == "/ok"
                body = b"<html><title>ok</title></html>" if ok else b"unavailable"
                self.send_response(200 if ok else 503); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def log_message(self, *args): pass
        server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
        if len(sys.argv) > 3:
            import ssl
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[2], sys.argv[3])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """

    /// Answers A queries for one name with 127.0.0.1, and NXDOMAIN for every other name.
    static let dnsServer = """
        import signal, socket, struct, sys
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", int(sys.argv[1])))
        known = sys.argv[2].lower().rstrip(".")
        while True:
            data, peer = sock.recvfrom(4096)
            ident = struct.unpack(">H", data[:2])[0]
            i, labels = 12, []
            while data[i] != 0:
                n = data[i]; labels.append(data[i + 1:i + 1 + n].decode()); i += n + 1
            qtype = struct.unpack(">H", data[i + 1:i + 3])[0]
            question = data[12:i + 5]
            name = ".".join(labels).lower()
            found = name == known and qtype in (1, 255)
            rcode = 0 if name == known else 3
            header = struct.pack(">HHHHHH", ident, 0x8180 | rcode, 1, 1 if found else 0, 0, 0)
            answer = b"\\xc0\\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1") if found else b""
            sock.sendto(header + question + answer, peer)
        """

    static func probe(_ name: String, _ module: NetworkProbeSpec.Module, targets: [String], prober: String) -> NetworkProbe {
        NetworkProbe(metadata: ObjectMeta(name: name, namespace: "e2e"),
                     spec: NetworkProbeSpec(prober: .init(url: prober), module: module, targets: .init(static: targets)))
    }

    @Test("probe_success is 1 for the open port, HTTP 200, ICMP, the known name and the TLS server, 0 for the closed port, HTTP 503 and the unknown name; the certificate's expiry is seen")
    func probes() async throws {
        // ICMP needs a raw socket (root or CAP_NET_RAW) or ping_group_range; make test runs as root in CI.
        let pingGroups = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ping_group_range", encoding: .utf8)) ?? ""
        try #require(getuid() == 0 || pingGroups.split(whereSeparator: \.isWhitespace).first.map { $0 == "0" } == true,
                     "ICMP probes need root or net.ipv4.ping_group_range covering this user's group")
        var ports: [Int] = []
        while ports.count < 6 { let port = freeLoopbackPort(); if !ports.contains(port) { ports.append(port) } }
        let (httpPort, tlsPort, dnsPort, closedPort, blackboxPort, prometheusPort) = (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5])
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-probes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var processes = ProcessGroup()
        defer { processes.stopAll() }

        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                             "-keyout", work + "/tls.key", "-out", work + "/tls.crt"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make the test certificate")
        try processes.start("/usr/bin/python3", ["-c", Self.httpServer, String(httpPort)])
        try processes.start("/usr/bin/python3", ["-c", Self.httpServer, String(tlsPort), work + "/tls.crt", work + "/tls.key"])
        try processes.start("/usr/bin/python3", ["-c", Self.dnsServer, String(dnsPort), "exists.netwatch.test"])

        let prober = "127.0.0.1:\(blackboxPort)"
        let stack = MonitoringStack(metadata: ObjectMeta(name: "stack", namespace: "e2e"), spec: {
            var spec = MonitoringStackSpec(prometheus: PrometheusSettings(
                scrapeInterval: try! PrometheusDuration(parsing: "2s"), scrapeTimeout: try! PrometheusDuration(parsing: "2s"),
                discovery: .static, output: .directory("/etc/prometheus")))
            spec.probeSelector = LabelSelector()
            spec.alertSelector = LabelSelector()
            spec.prometheus.evaluationInterval = try! PrometheusDuration(parsing: "1s")
            return spec
        }())
        var snapshot = Snapshot(namespaces: [Namespace(metadata: ObjectMeta(name: "e2e"))], monitoringStacks: [stack])
        snapshot.monitoringStacks[0].spec.dashboardSelector = LabelSelector()
        snapshot.networkDashboards = [NetworkDashboard(metadata: ObjectMeta(name: "probes", namespace: "e2e"), spec: NetworkDashboardSpec(preset: "probes"))]
        // The probes pack with every `for` shortened, so its states are seen within the test.
        let shortened = Dictionary(uniqueKeysWithValues: Self.probeAlerts.map { ($0, "1s") })
        snapshot.networkAlerts = [NetworkAlerts(metadata: ObjectMeta(name: "probes", namespace: "e2e"), spec: NetworkAlertsSpec(packs: [.init(name: "probes", for: shortened)]))]
        snapshot.networkProbes = [
            Self.probe("tcp", .tcp(.init()), targets: ["127.0.0.1:\(httpPort)", "127.0.0.1:\(closedPort)"], prober: prober),
            Self.probe("http", .http(.init(validStatusCodes: [200], bodyMustMatch: ["<title>ok</title>"])),
                       targets: ["http://127.0.0.1:\(httpPort)/ok", "http://127.0.0.1:\(httpPort)/down"], prober: prober),
            Self.probe("ping", .icmp(.init()), targets: ["127.0.0.1"], prober: prober),
            Self.probe("dns-known", .dns(.init(queryName: "exists.netwatch.test", answerMustMatch: ["127\\.0\\.0\\.1"])), targets: ["127.0.0.1:\(dnsPort)"], prober: prober),
            Self.probe("dns-unknown", .dns(.init(queryName: "missing.netwatch.test")), targets: ["127.0.0.1:\(dnsPort)"], prober: prober),
            Self.probe("tls", .tls(.init(insecureSkipVerify: true)), targets: ["127.0.0.1:\(tlsPort)"], prober: prober),
        ]
        let result = render(snapshot)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let output = OutputDirectory(root: work + "/out")
        _ = try output.write(result.artifacts)
        let modules = output.root + "/e2e/stack/blackbox/blackbox.yml"
        #expect(FileManager.default.fileExists(atPath: modules))

        try processes.start("/usr/bin/prometheus-blackbox-exporter", ["--config.file=\(modules)", "--web.listen-address=\(prober)"], log: work + "/blackbox.log")
        try processes.start("/usr/bin/prometheus", [
            "--config.file=\(output.root)/e2e/stack/prometheus/prometheus.yml", "--storage.tsdb.path=\(work)/tsdb",
            "--web.listen-address=127.0.0.1:\(prometheusPort)",
        ])
        let api = PrometheusAPI(port: prometheusPort)
        // probe_success by "job|instance".
        let wanted: [String: String] = [
            "probe/e2e/tcp|127.0.0.1:\(httpPort)": "1", "probe/e2e/tcp|127.0.0.1:\(closedPort)": "0",
            "probe/e2e/http|http://127.0.0.1:\(httpPort)/ok": "1", "probe/e2e/http|http://127.0.0.1:\(httpPort)/down": "0",
            "probe/e2e/ping|127.0.0.1": "1", "probe/e2e/tls|127.0.0.1:\(tlsPort)": "1",
            "probe/e2e/dns-known|127.0.0.1:\(dnsPort)": "1",
            "probe/e2e/dns-unknown|127.0.0.1:\(dnsPort)": "0",  // NXDOMAIN is not an accepted rcode
        ]
        // Every target reaches its value (a probe that timed out once on a loaded machine is
        // probed again two seconds later).
        var seen: [String: String] = [:]
        let reached = try await eventually(timeout: .seconds(60)) {
            seen = (try? await Self.byLabels(api, "probe_success", ["job", "instance"])) ?? [:]  // Prometheus may still be starting
            return seen == wanted
        }
        #expect(reached, "probe_success per job|instance: \(seen), wanted \(wanted) (blackbox_exporter's log: \(work)/blackbox.log)")
        // The TLS probe sees the test certificate's expiry, two days ahead.
        let expiry = try await Self.byLabels(api, "probe_ssl_earliest_cert_expiry - time()", ["instance"])
        let secondsLeft = try #require(expiry["127.0.0.1:\(tlsPort)"].flatMap(Double.init))
        #expect(secondsLeft > 86_400 && secondsLeft <= 2 * 86_400, "\(secondsLeft) s left")
        // The job carries what prometheus-operator's Probe gives: the probed target as instance,
        // the probe's namespace as a label, the prober as the scrape address.
        let targets = try await api.get("/api/v1/targets")
        let active = ((targets["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]]) ?? []
        let tcp = try #require(active.first { ($0["labels"] as? [String: String])?["instance"] == "127.0.0.1:\(closedPort)" })
        #expect((tcp["labels"] as? [String: String])?["namespace"] == "e2e")
        #expect((tcp["scrapeUrl"] as? String)?.hasPrefix("http://\(prober)/probe?module=e2e_tcp&target=127.0.0.1") == true, "\(tcp["scrapeUrl"] ?? "")")
        try await Self.checkAlerts(api, wanted: [
            "ProbeFailed|probe/e2e/tcp|127.0.0.1:\(closedPort)", "ProbeFailed|probe/e2e/http|http://127.0.0.1:\(httpPort)/down",
            "ProbeFailed|probe/e2e/dns-unknown|127.0.0.1:\(dnsPort)",
            "ProbeHTTPStatusError|probe/e2e/http|http://127.0.0.1:\(httpPort)/down",
            // The resolver answered (NXDOMAIN), so the query succeeded and the answer is the problem.
            "ProbeDNSUnexpectedAnswer|probe/e2e/dns-unknown|127.0.0.1:\(dnsPort)",
            "ProbeCertificateExpiring|probe/e2e/tls|127.0.0.1:\(tlsPort)",
        ])
        try await Self.checkDashboard(result, api)
    }

    /// Every alert of the probes pack.
    static let probeAlerts = ["ProbeFailed", "ProbeSlow", "ProbeICMPPacketLoss", "ProbeDNSQueryFailed", "ProbeDNSUnexpectedAnswer",
                              "ProbeCertificateExpiring", "ProbeHTTPStatusError"]

    /// The firing alerts of the live Prometheus become exactly `wanted` ("alertname|job|instance")
    /// and are the same three evaluations later: the healthy targets (open port, HTTP 200, ICMP,
    /// the known name) fire nothing, and neither do the slow-probe and ICMP-loss alerts.
    static func checkAlerts(_ api: PrometheusAPI, wanted: Set<String>) async throws {
        func firing() async -> Set<String> {
            let response = (try? await api.get("/api/v1/alerts")) ?? [:]
            let alerts = ((response["data"] as? [String: Any])?["alerts"] as? [[String: Any]]) ?? []
            return Set(alerts.compactMap { alert in
                guard alert["state"] as? String == "firing", let labels = alert["labels"] as? [String: String] else { return nil }
                return [labels["alertname"], labels["job"], labels["instance"]].map { $0 ?? "" }.joined(separator: "|")
            })
        }
        var seen: Set<String> = []
        let reached = try await eventually(timeout: .seconds(60)) {
            seen = await firing()
            return seen == wanted
        }
        #expect(reached, "firing: \(seen.sorted()), wanted \(wanted.sorted())")
        // It holds: the same set after three more evaluations of the rule groups.
        func lastEvaluations() async -> [String] {
            let response = (try? await api.get("/api/v1/rules")) ?? [:]
            let groups = ((response["data"] as? [String: Any])?["groups"] as? [[String: Any]]) ?? []
            return groups.map { ($0["lastEvaluation"] as? String) ?? "" }
        }
        for _ in 0..<3 {
            let before = await lastEvaluations()
            let evaluated = try await eventually(timeout: .seconds(30)) {
                let now = await lastEvaluations()
                return now.count == before.count && zip(now, before).allSatisfy { $0 != $1 }
            }
            #expect(evaluated, "the rule groups were not evaluated again")
        }
        let after = await firing()
        #expect(after == wanted, "the firing set changed after it was reached: \(after.sorted())")
    }

    /// Every panel query of the `probes` dashboard preset, with its variables resolved the way
    /// Grafana does (from their label_values() queries), returns data from the live Prometheus.
    static func checkDashboard(_ result: RenderResult, _ api: PrometheusAPI) async throws {
        let file = try #require(result.artifacts.first { $0.role == .dashboard })
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
        let dashboard = try await DashboardQueries(file.bytes) { selector, label in
            (try await api.get("/api/v1/label/\(label)/values?match%5B%5D=\(encoded(selector))")["data"] as? [String]) ?? []
        }
        var empty: [String] = []
        var count = 0
        for (title, expr) in dashboard.targets {
            let response = try await api.get("/api/v1/query?query=\(encoded(expr))")
            let series = ((response["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            if series.isEmpty { empty.append("\(title): \(expr)") }
            count += 1
        }
        #expect(count == 10, "every panel query of the preset was run (the heatmap included)")
        #expect(empty.isEmpty, "probes dashboard queries without data:\n\(empty.joined(separator: "\n"))")
    }

    /// The value of each series of `expression`, keyed by the named labels joined with "|".
    static func byLabels(_ api: PrometheusAPI, _ expression: String, _ labels: [String]) async throws -> [String: String] {
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
        let body = try await api.get("/api/v1/query?query=\(encoded)")
        let result = ((body["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        var values: [String: String] = [:]
        for series in result {
            let metric = series["metric"] as? [String: String] ?? [:]
            guard let value = (series["value"] as? [Any])?.last as? String else { continue }
            values[labels.map { metric[$0] ?? "" }.joined(separator: "|")] = value
        }
        return values
    }
}
