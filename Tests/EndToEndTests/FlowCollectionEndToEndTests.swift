import DataTree
import Flows
import Foundation
import KubeTesting
import Testing
import YAML

/// Flow collection against real exporters: traffic made in a network namespace the test
/// creates is captured by tcpdump, the capture is replayed through softflowd (Debian) as NetFlow
/// v9 and as IPFIX to `netwatch flows collect`, and to nfcapd; netwatch's connections must
/// match what it was sent and agree with nfdump's reading of the same export.
@Suite("Flow collection from softflowd, cross-checked with nfdump", .serialized)
struct FlowCollectionEndToEndTests {
    /// TCP to 127.0.0.2:18080 three times, UDP request/response to 127.0.0.3:15353 twice from one
    /// socket, TCP over IPv6 loopback to [::1]:18081 twice.
    static let traffic = #"""
    import socket, threading, time
    def tcp_server(family, address):
        s = socket.socket(family, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(address); s.listen(8)
        def serve():
            while True:
                c, _ = s.accept(); c.recv(100); c.sendall(b"pong" * 50); c.close()
        threading.Thread(target=serve, daemon=True).start()
    def udp_server(address):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(address)
        def serve():
            while True:
                data, peer = s.recvfrom(100); s.sendto(b"answer", peer)
        threading.Thread(target=serve, daemon=True).start()
    tcp_server(socket.AF_INET, ("127.0.0.2", 18080)); tcp_server(socket.AF_INET6, ("::1", 18081)); udp_server(("127.0.0.3", 15353))
    time.sleep(0.3)
    for family, address, count in [(socket.AF_INET, ("127.0.0.2", 18080), 3), (socket.AF_INET6, ("::1", 18081), 2)]:
        for _ in range(count):
            c = socket.socket(family, socket.SOCK_STREAM); c.bind(("127.0.0.1", 0) if family == socket.AF_INET else ("::1", 0))
            c.connect(address); c.sendall(b"ping"); c.recv(1000); c.close(); time.sleep(0.05)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); u.settimeout(2)
    for _ in range(2):
        u.sendto(b"question", ("127.0.0.3", 15353)); u.recvfrom(100)
    time.sleep(0.5)
    """#

    /// Processes started from the test inherit the blocked-signal mask of the thread that spawns
    /// them (nearly every signal, seen in /proc/PID/status), and it survives exec: tcpdump did not
    /// stop on SIGTERM. This wrapper unblocks and restores the signals, then execs the tool.
    static let env = "/usr/bin/python3"
    static let defaultSignals = ["-c", """
        import os, signal, sys
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM): signal.signal(s, signal.SIG_DFL)
        os.execv(sys.argv[1], sys.argv[1:])
        """]

    /// softflowd 1.1.0 hangs before reading the capture when its control socket path is 16
    /// characters or longer (seen here; any directory under /tmp is too long), so it gets a
    /// short unique name in /tmp.
    static func controlSocket() -> String {
        "/tmp/s\(String(UInt16.random(in: 0x1000...0xFFFF), radix: 16)).c"
    }

    @Test("softflowd's NetFlow v9 and IPFIX exports of a capture become the connections that were made, agreeing with nfdump")
    func softflowdToConnections() async throws {
        for tool in ["/usr/sbin/ip", "/usr/bin/tcpdump", "/usr/sbin/softflowd", "/usr/bin/nfcapd", "/usr/bin/nfdump", "/usr/bin/python3", CommandLineTests.binary] {
            guard FileManager.default.isExecutableFile(atPath: tool) else { throw TestFailure("\(tool) is missing; run hack/setup (make test does)") }
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-flows-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Self.traffic.write(toFile: work + "/traffic.py", atomically: true, encoding: .utf8)

        // 1. Capture the traffic in a namespace of its own: nothing else is on its loopback.
        let namespace = DashboardEndToEndTests.Namespace(name: "nw-flows-\(getpid())-\(UInt16.random(in: 0...UInt16.max))")
        try await offPool { try DashboardEndToEndTests.run(["/usr/sbin/ip", "netns", "add", namespace.name]) }
        defer { _ = try? DashboardEndToEndTests.run(["/usr/sbin/ip", "netns", "del", namespace.name]) }
        try await offPool { try DashboardEndToEndTests.run(namespace.exec(["/usr/sbin/ip", "link", "set", "lo", "up"])) }
        var capture = ProcessGroup()
        try capture.start(Self.env, Self.defaultSignals + namespace.exec(["/usr/bin/tcpdump", "-i", "lo", "-w", work + "/traffic.pcap", "-U", "-Z", "root", "not", "port", "22"]))
        try await Task.sleep(for: .seconds(1.5))  // tcpdump is listening
        try await offPool { try DashboardEndToEndTests.run(namespace.exec(["/usr/bin/python3", work + "/traffic.py"])) }
        try await Task.sleep(for: .milliseconds(500))
        // tcpdump writes each packet as it comes (-U); SIGKILL cannot be blocked or ignored.
        capture.stopAll()

        // 2. Replay it through softflowd to netwatch (v9 and IPFIX) and to nfcapd.
        var results: [Int: [ObservedConnection]] = [:]
        for version in [9, 10] {
            let port = freeLoopbackPort()
            let output = "\(work)/v\(version).jsonl"
            var collector = ProcessGroup()
            try collector.start(CommandLineTests.binary, ["flows", "collect", "--listen", "127.0.0.1:\(port)", "--output", output, "--duration", "4s"])
            try await Task.sleep(for: .seconds(1))
            try await offPool { try DashboardEndToEndTests.run([Self.env] + Self.defaultSignals + ["/usr/sbin/softflowd", "-r", work + "/traffic.pcap", "-n", "127.0.0.1:\(port)", "-v", String(version), "-6", "-d",
                                            "-p", "\(work)/softflowd-\(version).pid", "-c", Self.controlSocket()]) }
            let processes = collector.processes
            _ = try await offPool { for process in processes { process.waitUntilExit() } }
            let (connections, problems) = ConnectionLines.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: output))))
            #expect(problems.isEmpty)
            results[version] = connections
        }
        let nfcapdPort = freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: work + "/nfcapd", withIntermediateDirectories: true)
        var nfcapd = ProcessGroup()
        try nfcapd.start(Self.env, Self.defaultSignals + ["/usr/bin/nfcapd","-p", String(nfcapdPort), "-w", work + "/nfcapd", "-t", "60"])
        try await Task.sleep(for: .seconds(1))
        try await offPool { try DashboardEndToEndTests.run([Self.env] + Self.defaultSignals + ["/usr/sbin/softflowd", "-r", work + "/traffic.pcap", "-n", "127.0.0.1:\(nfcapdPort)", "-v", "10", "-6", "-d",
                                        "-p", "\(work)/softflowd-nf.pid", "-c", Self.controlSocket()]) }
        try await Task.sleep(for: .seconds(1))
        nfcapd.stopAll()  // SIGTERM: nfcapd flushes its file

        // 3. What was made: three connections, with their server ports and transports.
        for version in [9, 10] {
            let connections = results[version] ?? []
            let summary = connections.map { "\($0.key.client)->\($0.key.server):\($0.key.serverPort)/\($0.key.transport.rawValue) flows=\($0.flows)" }
            #expect(summary == [
                "127.0.0.1->127.0.0.2:18080/TCP flows=6",
                "127.0.0.1->127.0.0.3:15353/UDP flows=2",
                "::1->::1:18081/TCP flows=4",
            ], "NetFlow v\(version): \(summary)")
            // Times are those of the capture (within v9's one-second header precision), not the replay's.
            let captured = try await offPool { try DashboardEndToEndTests.run(["/usr/bin/tcpdump", "-r", work + "/traffic.pcap", "-tt", "-c", "1"]) }.split(separator: " ").first.flatMap { Double($0) }
            let first = connections.map(\.firstSeen).min() ?? 0
            #expect(captured.map { abs(Double(first) / 1000 - $0) < 1.5 } == true, "first seen \(first), captured \(String(describing: captured))")
        }

        // 4. nfdump's reading of the same IPFIX export: the same records, packets and bytes.
        let files = try FileManager.default.contentsOfDirectory(atPath: work + "/nfcapd").filter { $0.hasPrefix("nfcapd.") }.map { work + "/nfcapd/" + $0 }
        #expect(!files.isEmpty)
        var nfdumpTotals: [String: (records: Int, packets: Int, bytes: Int)] = [:]
        for file in files {
            let listing = try await offPool { try DashboardEndToEndTests.run(["/usr/bin/nfdump", "-r", file, "-q", "-o", "fmt:%sa|%da|%sp|%dp|%pr|%pkt|%byt"]) }
            for line in listing.split(separator: "\n") {
                let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                guard fields.count == 7, let sourcePort = Int(fields[2]), let destinationPort = Int(fields[3]), let packets = Int(fields[5]), let bytes = Int(fields[6]) else { continue }
                // The server end: the lower port (as netwatch decides without other hints).
                let (server, port) = sourcePort < destinationPort ? (fields[0], sourcePort) : (fields[1], destinationPort)
                let key = "\(server):\(port)/\(fields[4])"
                let old = nfdumpTotals[key] ?? (0, 0, 0)
                nfdumpTotals[key] = (old.records + 1, old.packets + packets, old.bytes + bytes)
            }
        }
        for connection in results[10] ?? [] {
            let key = "\(connection.key.server):\(connection.key.serverPort)/\(connection.key.transport.rawValue)"
            let expected = nfdumpTotals[key]
            #expect(expected?.records == connection.flows && expected?.packets == Int(connection.packets) && expected?.bytes == Int(connection.bytes),
                    "\(key): netwatch flows=\(connection.flows) packets=\(connection.packets) bytes=\(connection.bytes); nfdump \(String(describing: expected))")
        }
        #expect(nfdumpTotals.count == 3, "\(nfdumpTotals.keys.sorted())")

        // 5. The policies for a topology whose pods hold the capture's loopback addresses.
        try FileManager.default.createDirectory(atPath: work + "/render", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: work + "/v10.jsonl", toPath: work + "/render/flows.jsonl")
        try Self.topology.write(toFile: work + "/render/topology.yaml", atomically: true, encoding: .utf8)
        try await offPool { try DashboardEndToEndTests.run([CommandLineTests.binary, "render", "--input", work + "/render", "--output", work + "/out"]) }
        let directory = work + "/out/networkpolicies/e2e"
        let policyFiles = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(policyFiles == ["resolver-deployment-flows.yaml", "shopper-deployment-flows.yaml", "web-deployment-flows.yaml"])
        try await offPool {
            try DashboardEndToEndTests.run([CommandLineTests.root.appendingPathComponent(".venv/bin/kubernetes-validate").path, "--strict", "--quiet", "-k", "1.33.0"] + policyFiles.map { directory + "/" + $0 })
        }
        var policies: [Node] = []
        for file in policyFiles { policies += try YAMLParser().parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))), file: file).map(\.node) }
        let evaluator = PolicyEvaluator(policies: policies)
        func pod(_ app: String, _ address: String, _ ports: [String: Int] = [:]) -> PolicyEvaluator.Endpoint {
            .init(namespace: "e2e", labels: ["app": app], address: IPAddress(address)!, namedPorts: ports)
        }
        let shopper = pod("shopper", "127.0.0.1"), shopper6 = pod("shopper", "::1"), web = pod("web", "127.0.0.2", ["http": 18080]), resolver = pod("resolver", "127.0.0.3")
        #expect(evaluator.allows(from: shopper, to: web, port: 18080, transport: .tcp))
        #expect(evaluator.allows(from: shopper, to: resolver, port: 15353, transport: .udp))
        #expect(evaluator.allows(from: shopper6, to: shopper6, port: 18081, transport: .tcp))
        #expect(!evaluator.allows(from: web, to: shopper, port: 18080, transport: .tcp), "the reverse direction was never opened")
        #expect(!evaluator.allows(from: shopper, to: web, port: 18081, transport: .tcp))
        #expect(!evaluator.allows(from: shopper, to: resolver, port: 15353, transport: .tcp), "UDP was seen, not TCP")
        #expect(!evaluator.allows(from: resolver, to: web, port: 18080, transport: .tcp))
        let webPolicy = try String(contentsOfFile: directory + "/web-deployment-flows.yaml", encoding: .utf8)
        #expect(webPolicy.contains("port: 18080") && webPolicy.contains("app: shopper"), "\(webPolicy)")

        // 6. `netwatch policy check` on the capture: the learned policies allow everything observed;
        //    web's learned policy replaced by a hand-written tightening (policies are additive, so
        //    adding it next to the learned one would change nothing) is caught, naming the policy.
        let check = [CommandLineTests.binary, "policy", "check", "--flows", work + "/v10.jsonl", "--manifests", work + "/render/topology.yaml", directory]
        let learned = try CommandLineTests().run(Array(check.dropFirst()))
        #expect(learned.status == 0, "\(learned.stdout)\(learned.stderr)")
        #expect(learned.stdout.hasPrefix("netwatch policy check: 0 of 3 observed edge(s) (3 connection(s)) would be denied"), "\(learned.stdout)")
        try """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web-from-gateway-only, namespace: e2e}
            spec: {podSelector: {matchLabels: {app: web}}, ingress: [{from: [{podSelector: {matchLabels: {app: gateway}}}]}]}
            """.write(toFile: work + "/tightened.yaml", atomically: true, encoding: .utf8)
        let others = policyFiles.filter { $0 != "web-deployment-flows.yaml" }.map { directory + "/" + $0 }
        let tightened = try CommandLineTests().run(["policy", "check", "--flows", work + "/v10.jsonl", "--manifests", work + "/render/topology.yaml", work + "/tightened.yaml"] + others)
        #expect(tightened.status == 1)
        #expect(tightened.stdout.contains("DENIED Deployment e2e/shopper → Deployment e2e/web on 18080/TCP: refused by ingress of Deployment e2e/web"), "\(tightened.stdout)")
        #expect(tightened.stdout.contains("e2e/web-from-gateway-only (\(work)/tightened.yaml:1)"), "\(tightened.stdout)")
    }

    /// Three workloads whose pods hold the capture's addresses: a dual-stack client and two servers.
    static let topology = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: shopper, namespace: e2e}
        spec: {selector: {matchLabels: {app: shopper}}, template: {metadata: {labels: {app: shopper}}, spec: {containers: [{name: c, image: c}]}}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: e2e}
        spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web, ports: [{name: http, containerPort: 18080}]}]}}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: resolver, namespace: e2e}
        spec: {selector: {matchLabels: {app: resolver}}, template: {metadata: {labels: {app: resolver}}, spec: {containers: [{name: r, image: r}]}}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: shopper-1, namespace: e2e, labels: {app: shopper}}
        spec: {containers: [{name: c, image: c}]}
        status: {phase: Running, podIP: 127.0.0.1, podIPs: [{ip: 127.0.0.1}, {ip: "::1"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: e2e, labels: {app: web}}
        spec: {containers: [{name: web, image: web, ports: [{name: http, containerPort: 18080}]}]}
        status: {phase: Running, podIP: 127.0.0.2}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: resolver-1, namespace: e2e, labels: {app: resolver}}
        spec: {containers: [{name: r, image: r}]}
        status: {phase: Running, podIP: 127.0.0.3}
        """
}
