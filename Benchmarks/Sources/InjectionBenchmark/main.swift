import BenchmarkSupport
import ConfigGen
import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeModel
import Logging
import Operator
import Synchronization
import YAML

/// Issue 7's benchmarks.
/// 1. Patch generation alone, one core: SidecarInjection.inject over realistic pods (≥ 20,000 pods/s),
///    and the whole AdmissionHandler (JSON parse + inject + diff + encode) on the same pods.
/// 2. The webhook on loopback: `WebhookServer` (HTTPS, hummingbird) in a child process, driven
///    open-loop at 1,000 requests/s for 10 s by a libcurl client (our CurlTransport, TLS
///    verified, connections reused) with realistic AdmissionReviews; client-side p50/p99/max,
///    and the server's own handling time from its histogram (target p99 ≤ 2 ms).
/// Usage: InjectionBenchmark [serve CERT KEY]   (the second form is the child)

/// A pod as the ReplicaSet controller creates it: generateName, owner, managed fields, two
/// containers with env, probes, resources and mounts, projected token volume.
func podJSON(_ index: Int) -> String {
    """
    {"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"checkout-7d9c8b6f5-","labels":{"app":"checkout","pod-template-hash":"7d9c8b6f5","app.kubernetes.io/name":"checkout","app.kubernetes.io/version":"2.14.\(index % 10)"},\
    "annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-20T10:00:00Z","prometheus.io/scrape":"true","prometheus.io/port":"9090"},\
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"checkout-7d9c8b6f5","uid":"5f0c6f9e-8c1e-4b8e-9d53-\(String(format: "%012d", index))","controller":true,"blockOwnerDeletion":true}],\
    "managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"2026-11-22T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{}}}}}]},\
    "spec":{"serviceAccountName":"checkout","terminationGracePeriodSeconds":30,"securityContext":{"runAsNonRoot":true,"fsGroup":2000},\
    "containers":[{"name":"checkout","image":"ghcr.io/example/checkout:2.14.\(index % 10)","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"},{"name":"metrics","containerPort":9090,"protocol":"TCP"}],\
    "env":[{"name":"DATABASE_URL","valueFrom":{"secretKeyRef":{"name":"checkout-db","key":"url"}}},{"name":"LOG_LEVEL","value":"info"},{"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],\
    "resources":{"requests":{"cpu":"250m","memory":"256Mi"},"limits":{"cpu":"1","memory":"512Mi"}},\
    "readinessProbe":{"httpGet":{"path":"/ready","port":"http"},"periodSeconds":5},"livenessProbe":{"httpGet":{"path":"/healthz","port":"http"},"periodSeconds":10},\
    "volumeMounts":[{"name":"config","mountPath":"/etc/checkout","readOnly":true},{"name":"kube-api-access","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}]},\
    {"name":"log-shipper","image":"fluent/fluent-bit:3.1","resources":{"requests":{"cpu":"20m","memory":"32Mi"}},"volumeMounts":[{"name":"varlog","mountPath":"/var/log"}]}],\
    "volumes":[{"name":"config","configMap":{"name":"checkout-config"}},{"name":"varlog","emptyDir":{}},\
    {"name":"kube-api-access","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}]}}]}}
    """
}

func review(_ index: Int) -> String {
    """
    {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"705ab4f5-6393-11e8-b7cc-\(String(format: "%012d", index))",\
    "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"requestKind":{"group":"","version":"v1","kind":"Pod"},\
    "requestResource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE",\
    "userInfo":{"username":"system:serviceaccount:kube-system:replicaset-controller","groups":["system:serviceaccounts","system:serviceaccounts:kube-system","system:authenticated"]},\
    "object":\(podJSON(index)),"oldObject":null,"dryRun":false,"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}}}
    """
}

let injector = SidecarInjection.Injector(name: "network-exporter", namespaceSelector: LabelSelector(matchLabels: ["netwatch.dev/inject": "enabled"]))
let handler = AdmissionHandler(injectors: [injector], capabilities: .init(nativeSidecars: true), operatorNamespace: "netwatch-system",
                               namespaceLabels: { _ in ["netwatch.dev/inject": "enabled"] })

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

if CommandLine.arguments.count == 4, CommandLine.arguments[1] == "serve" {
    // The child: the webhook server alone in this process.
    var logger = Logger(label: "webhook")
    logger.logLevel = .warning
    let certificate = try ServingCertificate(certificateFile: CommandLine.arguments[2], keyFile: CommandLine.arguments[3])
    let server = WebhookServer(host: "127.0.0.1", port: 0, certificate: certificate, logger: logger) { handler }
    try await server.run { port in
        FileHandle.standardOutput.write(Data("PORT \(port)\n".utf8))
    }
    exit(0)
}

// 1. Patch generation on one core.
let count = 20_000
let pods: [Node] = try (0..<count).map { index in
    try YAMLParser().parse(podJSON(index), file: "pod").first!.node
}
let reviews: [[UInt8]] = (0..<count).map { Array(review($0).utf8) }
let clock = ContinuousClock()
var injectRates: [Double] = []
var handleRates: [Double] = []
var patchBytes = 0
for _ in 0..<5 {
    var started = clock.now
    for pod in pods {
        guard case .injected(_, let patch, _) = SidecarInjection.inject(pod: pod, namespace: "shop", namespaceLabels: ["netwatch.dev/inject": "enabled"],
                                                                       injectors: [injector], capabilities: .init(nativeSidecars: true), operatorNamespace: "netwatch-system")
        else { print("a pod was not injected"); exit(1) }
        patchBytes = patch.count
    }
    injectRates.append(Double(count) / (milliseconds(clock.now - started) / 1000))
    started = clock.now
    for body in reviews where handler.handle(body).outcome != "injected" { print("a review was not injected"); exit(1) }
    handleRates.append(Double(count) / (milliseconds(clock.now - started) / 1000))
}
print("patch generation: \(count) pods (\(podJSON(0).utf8.count) bytes of JSON each, \(patchBytes) patch operations), one core, 5 runs")
print(String(format: "  SidecarInjection.inject: median %.0f pods/s (min %.0f, max %.0f); target >= 20,000", injectRates.sorted()[2], injectRates.min()!, injectRates.max()!))
BenchmarkReport.record("inject median", injectRates.sorted()[2], unit: "pods/s", better: .higher, target: 20_000)
BenchmarkReport.record("admission handle median", handleRates.sorted()[2], unit: "reviews/s", better: .higher)
print(String(format: "  AdmissionHandler.handle (parse + inject + diff + encode): median %.0f reviews/s (min %.0f, max %.0f)", handleRates.sorted()[2], handleRates.min()!, handleRates.max()!))

// 2. The webhook on loopback at 1,000 requests/s.
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-webhook-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let openssl = Process()
openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", directory + "/tls.key", "-out", directory + "/tls.crt",
                     "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
openssl.standardError = FileHandle.nullDevice
try openssl.run()
openssl.waitUntilExit()

let child = Process()
child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
child.arguments = ["serve", directory + "/tls.crt", directory + "/tls.key"]
let output = Pipe()
child.standardOutput = output
try child.run()
var line = ""
while !line.hasSuffix("\n") {
    let byte = output.fileHandleForReading.readData(ofLength: 1)
    if byte.isEmpty { print("the webhook process exited"); exit(1) }
    line += String(decoding: byte, as: UTF8.self)
}
let port = Int(line.split(separator: " ")[1].trimmingCharacters(in: .whitespacesAndNewlines))!
let url = "https://127.0.0.1:\(port)/mutate"
var logger = Logger(label: "client")
logger.logLevel = .warning
let transport = try CurlTransport(options: .init(tls: TLSSettings(certificateAuthority: .file(directory + "/tls.crt"))), logger: logger)

let rate = Int(ProcessInfo.processInfo.environment["RATE"] ?? "") ?? 1_000
let seconds = 10
let latencies = Mutex<[Double]>([])
let failures = Mutex(0)
func send(_ index: Int, record: Bool) async {
    let started = ContinuousClock.now
    do {
        let response = try await transport.send(HTTPRequest(method: "POST", url: url, headers: [HTTPHeader("Content-Type", "application/json")], body: reviews[index % count]))
        let elapsed = milliseconds(ContinuousClock.now - started)
        if response.head.status != 200 { failures.withLock { $0 += 1 } } else if record { latencies.withLock { $0.append(elapsed) } }
    } catch {
        failures.withLock { $0 += 1 }
    }
}
// Warm up (connections, TLS sessions), then the measured open-loop run: one request started
// every millisecond whatever the previous ones are doing.
for phase in [(seconds: 2, record: false), (seconds: seconds, record: true)] {
    await withTaskGroup(of: Void.self) { group in
        let start = ContinuousClock.now
        for index in 0..<(rate * phase.seconds) {
            let due = start + .microseconds(index * 1_000_000 / rate)
            try? await Task.sleep(until: due, clock: .continuous)
            group.addTask { await send(index, record: phase.record) }
        }
    }
}
let measured = latencies.withLock { $0 }.sorted()
let metrics = try await transport.send(HTTPRequest(method: "GET", url: "https://127.0.0.1:\(port)/metrics"))
child.terminate()
child.waitUntilExit()
let text = String(decoding: metrics.body, as: UTF8.self)
print("webhook on loopback: \(rate) requests/s open loop for \(seconds) s after a 2 s warm-up, \(reviews[0].count)-byte AdmissionReviews, HTTPS (TLS 1.3, P-256), libcurl client reusing connections")
print(String(format: "  client-side latency ms: p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f over %d requests (%d over 2 ms); %d failed; target p99 <= 2 ms",
             percentile(measured, 0.5), percentile(measured, 0.9), percentile(measured, 0.99), percentile(measured, 0.999), measured.last ?? 0, measured.count,
             measured.filter { $0 > 2 }.count, failures.withLock { $0 }))
BenchmarkReport.record("webhook latency p99", percentile(measured, 0.99), unit: "ms", better: .lower, target: 2)
for line in text.split(separator: "\n") where line.hasPrefix("netwatch_webhook_duration_seconds_bucket") || line.hasPrefix("netwatch_webhook_duration_seconds_count") {
    print("  server: \(line)")
}
