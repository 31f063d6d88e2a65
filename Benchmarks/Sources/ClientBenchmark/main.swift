import BenchmarkSupport
import CAllocator
import CurlTransport
import DataTree
import Foundation
import Glibc
import KubeClient
import KubeModel
import KubeTesting
import Logging

/// List and decode N realistic pods (~4 KB of JSON each) from the test API server, next to
/// `kubectl get pods -A -o name` on the same server and the same bytes (DESIGN.md §6: ≥ 2×
/// faster than kubectl; ≤ 1.5 KB held per decoded pod).
///
/// The server runs in a child process (`ClientBenchmark serve N`) so the client's memory and
/// CPU are its own. Both clients page with limit 500 (kubectl's default chunk size).

func realisticPod(_ index: Int) -> Node {
    let namespace = "team-\(index % 1000)"
    let app = ["web", "api", "cart", "ledger", "search"][index % 5]
    // Pods come in ReplicaSets of 5: replicas share the owner, template hash, images and
    // restart annotation, as they do in a real cluster.
    let replicaSet = index / 5
    let hash = String(replicaSet &* 2_654_435_761 % 0xFFFFFF, radix: 16)
    let ownerUID = String(format: "%08x-0000-4000-9000-%012x", replicaSet, replicaSet)
    let name = "\(app)-\(hash)-\(String(index, radix: 36))"
    let ip = "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)"
    let uid = String(format: "%08x-0000-4000-8000-%012x", index, index)
    let time = "2026-11-20T10:\(String(format: "%02d", replicaSet % 60)):00Z"
    let fields: Node = ["f:metadata": ["f:generateName": [:], "f:labels": ["f:app": [:], "f:pod-template-hash": [:], "f:team": [:], "f:tier": [:], "f:version": [:]], "f:ownerReferences": ["k:{\"uid\":\"\(ownerUID)\"}": [:]]],
                        "f:spec": ["f:containers": ["k:{\"name\":\"app\"}": ["f:image": [:], "f:name": [:], "f:ports": [:], "f:resources": [:]], "k:{\"name\":\"exporter\"}": ["f:image": [:]]], "f:dnsPolicy": [:], "f:restartPolicy": [:], "f:schedulerName": [:]]]
    let statusFields: Node = ["f:status": ["f:conditions": [:], "f:containerStatuses": [:], "f:hostIP": [:], "f:phase": [:], "f:podIP": [:], "f:podIPs": [:], "f:startTime": [:]]]
    let container: Node = [
        "name": "app", "image": .string("registry.example.com/\(app):1.\(index % 40).3"),
        "ports": [["name": "http", "containerPort": 8080, "protocol": "TCP"], ["name": "metrics", "containerPort": 9090, "protocol": "TCP"]],
        "env": [["name": "APP_ENV", "value": "production"], ["name": "POD_NAME", "valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.name"]]]],
        "resources": ["requests": ["cpu": "100m", "memory": "128Mi"], "limits": ["cpu": "1", "memory": "512Mi"]],
        "volumeMounts": [["name": "kube-api-access-x7q2k", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true]],
        "livenessProbe": ["httpGet": ["path": "/healthz", "port": 8080, "scheme": "HTTP"], "periodSeconds": 10, "timeoutSeconds": 1, "failureThreshold": 3],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
    ]
    let exporter: Node = ["name": "exporter", "image": "quay.io/prometheus/node-exporter:v1.8.2", "ports": [["name": "nw-exporter", "containerPort": 9532, "protocol": "TCP"]], "resources": ["requests": ["cpu": "10m", "memory": "16Mi"]]]
    let containerStatus: (String) -> Node = { container in
        ["name": .string(container), "ready": true, "restartCount": 0, "started": true, "image": "registry.example.com/app:1",
         "imageID": "registry.example.com/app@sha256:4b9a7c1e2f0d3a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3",
         "containerID": .string("containerd://\(hash)\(uid)"), "state": ["running": ["startedAt": .string(time)]], "lastState": [:]]
    }
    return [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": [
            "name": .string(name), "generateName": .string("\(app)-\(hash)-"), "namespace": .string(namespace), "uid": .string(uid),
            "creationTimestamp": .string(time),
            "labels": ["app": .string(app), "pod-template-hash": .string(hash), "team": .string("team-\(index % 97)"), "tier": index % 3 == 0 ? "frontend" : "backend", "version": "v1"],
            "annotations": ["prometheus.io/scrape": "true", "prometheus.io/port": "9090", "kubectl.kubernetes.io/restartedAt": .string(time)],
            "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": .string("\(app)-\(hash)"), "uid": .string(ownerUID), "controller": true, "blockOwnerDeletion": true]],
            "managedFields": [
                ["manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fields],
                ["manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": statusFields, "subresource": "status"],
            ],
        ],
        "spec": [
            "volumes": [["name": "kube-api-access-x7q2k", "projected": ["defaultMode": 420, "sources": [["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]], ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]]]]]],
            "containers": [container, exporter],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "serviceAccountName": "default",
            "nodeName": .string("node-\(index % 200)"), "securityContext": [:], "schedulerName": "default-scheduler", "priority": 0,
            "tolerations": [["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300],
                            ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]],
            "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
        ],
        "status": [
            "phase": "Running",
            "conditions": .sequence(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map { ["type": .string($0), "status": "True", "lastProbeTime": .null, "lastTransitionTime": .string(time)] }),
            "hostIP": .string("192.0.2.\(index % 200)"), "hostIPs": [["ip": .string("192.0.2.\(index % 200)")]],
            "podIP": .string(ip), "podIPs": [["ip": .string(ip)]], "startTime": .string(time),
            "containerStatuses": [containerStatus("app"), containerStatus("exporter")], "qosClass": "Burstable",
        ],
    ]
}

func allocatedBytes() -> Int {
    callocator_release_free_memory()
    return Int(callocator_bytes_in_use())
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let arguments = CommandLine.arguments
if arguments.count > 2, arguments[1] == "serve" {
    // Child: seed the pods and serve until stdin closes.
    let count = Int(arguments[2]) ?? 100_000
    let server = try await TestAPIServer.start()
    var bytes = 0
    var batch: [Node] = []
    for index in 0..<count {
        let pod = realisticPod(index)
        bytes += JSONEmitter(style: .compact).emit(pod).count - 1
        batch.append(pod)
        if batch.count == 5_000 {
            server.state.seed(resource: "pods", objects: batch)
            batch = []
        }
    }
    server.state.seed(resource: "pods", objects: batch)
    FileHandle.standardOutput.write(Data("PORT \(server.port) BYTES \(bytes)\n".utf8))
    while readLine() != nil {}
    await server.stop()
    exit(0)
}

let podCount = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
let runs = 3
let benchmarkRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let kubectl = benchmarkRoot.deletingLastPathComponent().appendingPathComponent(".venv/bin/kubectl").path

let child = try ServerChild(pods: podCount)
let port = Int(child.value("PORT") ?? "")!
let servedBytes = Int(child.value("BYTES") ?? "")!
let url = "http://127.0.0.1:\(port)"
print("served: \(podCount) pods, \(servedBytes / 1_000_000) MB of JSON (\(servedBytes / podCount) bytes/pod) from the test API server at \(url)")

var logger = Logger(label: "bench")
logger.logLevel = .warning
let client = try KubeClient(configuration: KubeConfiguration(server: url), logger: logger)

// netwatch: list + decode into the Pod projection, paginated by 500.
var clientTimes: [Double] = []
var decodedCount = 0
let clock = ContinuousClock()
for _ in 0..<runs {
    let start = clock.now
    let list = try await client.listAll(Pod.self, .pods)
    let elapsed = clock.now - start
    decodedCount = list.items.count
    clientTimes.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}
precondition(decodedCount == podCount, "decoded \(decodedCount) of \(podCount)")

// Memory held per decoded pod: allocator bytes in use with the list alive, minus before. A
// fresh client, so the strings its interner keeps are counted too.
let freshClient = try KubeClient(configuration: KubeConfiguration(server: url), logger: logger)
let before = allocatedBytes()
let held = try await freshClient.listAll(Pod.self, .pods)
let after = allocatedBytes()
let perPod = Double(after - before) / Double(held.items.count)
withExtendedLifetime(held) {}

// kubectl on the same server and bytes.
let cache = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-bench-kubectl-cache").path
let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-bench-kubeconfig").path
try """
apiVersion: v1
kind: Config
current-context: bench
clusters: [{name: bench, cluster: {server: "\(url)"}}]
users: [{name: bench, user: {}}]
contexts: [{name: bench, context: {cluster: bench, user: bench}}]
""".write(toFile: kubeconfig, atomically: true, encoding: .utf8)
func runKubectl() throws -> (Double, Int) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: kubectl)
    process.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", cache, "get", "pods", "-A", "-o", "name"]
    let output = Pipe()
    process.standardOutput = output
    let start = clock.now
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let elapsed = clock.now - start
    precondition(process.terminationStatus == 0, "kubectl failed")
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, data.filter { $0 == 0x0A }.count)
}
var kubectlTimes: [Double] = []
guard FileManager.default.isExecutableFile(atPath: kubectl) else { fatalError("\(kubectl) missing: run make setup") }
_ = try runKubectl()  // warm the discovery cache, as a user's second command would
for _ in 0..<runs {
    let (seconds, lines) = try runKubectl()
    precondition(lines == podCount, "kubectl listed \(lines) of \(podCount)")
    kubectlTimes.append(seconds)
}
child.stop()

let ours = median(clientTimes), theirs = median(kubectlTimes)
print(String(format: "netwatch list+decode %d pods: median %.2f s (runs: %@)", podCount, ours, clientTimes.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
print(String(format: "kubectl get pods -A -o name: median %.2f s (runs: %@)", theirs, kubectlTimes.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
print(String(format: "speed-up: %.1fx (target >= 2x)", theirs / ours))
print(String(format: "memory held per decoded pod: %.0f bytes (target <= 1536); client peak RSS %.0f MB", perPod, residentMegabytes("VmHWM")))
