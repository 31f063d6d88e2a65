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

/// Decoding alone, on one core, from bytes already in memory: list pages of 500 pods and watch
/// event lines, through the byte decoder (what the client uses) and through Foundation's
/// `JSONDecoder` (what it used before), side by side on the same bytes.
/// `pods` realistic pods as list pages of 500, compact JSON.
func listPages(pods: Int) -> [[UInt8]] {
    stride(from: 0, to: pods, by: 500).map { first in
        let items = (first..<min(first + 500, pods)).map(realisticPod)
        let page: Node = ["kind": "PodList", "apiVersion": "v1", "metadata": ["resourceVersion": "1"], "items": .sequence(items)]
        return Array(JSONEmitter(style: .compact).emit(page))
    }
}

func decodeThroughput(pods: Int) throws {
    let pages = listPages(pods: pods)
    let events: [[UInt8]] = (0..<pods).map { index in
        Array(JSONEmitter(style: .compact).emit(["type": "MODIFIED", "object": realisticPod(index)]))
    }
    let pageBytes = pages.reduce(0) { $0 + $1.count }
    let clock = ContinuousClock()
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
    var cursorRuns: [Double] = [], foundationRuns: [Double] = [], eventRuns: [Double] = []
    for _ in 0..<runs {
        let interner = StringInterner()
        cursorRuns.append(try seconds {
            for page in pages {
                let list = try JSONCursor.decode(ObjectList<Pod>.self, from: page, interner: interner)
                precondition(!list.items.isEmpty)
            }
        })
        // NETWATCH_BENCH_CURSOR_ONLY=1 leaves the comparison runs out (for profiling the cursor).
        if ProcessInfo.processInfo.environment["NETWATCH_BENCH_CURSOR_ONLY"] != nil {
            foundationRuns.append(.nan)
            eventRuns.append(.nan)
            continue
        }
        let decoder = JSONDecoder()
        decoder.userInfo[StringInterner.userInfoKey] = StringInterner()
        foundationRuns.append(try seconds {
            for page in pages {
                let list = try decoder.decode(ObjectList<Pod>.self, from: Data(page))
                precondition(!list.items.isEmpty)
            }
        })
        let eventInterner = StringInterner()
        eventRuns.append(try seconds {
            for line in events { _ = try WatchEvent<Pod>.decode(line: line, resource: .pods, interner: eventInterner) }
        })
    }
    // Memory held per decoded pod, each decoder with its own fresh interner (counted).
    func heldPerPod(_ decode: (StringInterner) throws -> [Pod]) rethrows -> Double {
        let before = allocatedBytes()
        let interner = StringInterner()
        let held = try decode(interner)
        let after = allocatedBytes()
        withExtendedLifetime((held, interner)) {}
        return Double(after - before) / Double(held.count)
    }
    let cursorHeld = try heldPerPod { interner in
        var pods: [Pod] = []
        for page in pages { pods += try JSONCursor.decode(ObjectList<Pod>.self, from: page, interner: interner).items }
        return pods
    }
    let foundationHeld = try heldPerPod { interner in
        let decoder = JSONDecoder()
        decoder.userInfo[StringInterner.userInfoKey] = interner
        var pods: [Pod] = []
        for page in pages { pods += try decoder.decode(ObjectList<Pod>.self, from: Data(page)).items }
        return pods
    }
    print(String(format: "memory held per decoded pod, %d pods: byte decoder %.0f B, JSONDecoder %.0f B (target <= 1024)", pods, cursorHeld, foundationHeld))
    let megabytes = Double(pageBytes) / 1e6
    print(String(format: "decode only, one core, %d pods in pages of 500 (%.0f MB): byte decoder %.0f MB/s (median %.3f s), JSONDecoder %.0f MB/s (median %.3f s): %.1fx",
                 pods, megabytes, megabytes / median(cursorRuns), median(cursorRuns), megabytes / median(foundationRuns), median(foundationRuns),
                 median(foundationRuns) / median(cursorRuns)))
    print(String(format: "watch events decoded, one core: %.0f pod events/s (median %.3f s for %d MODIFIED lines; target >= 100000/s)",
                 Double(pods) / median(eventRuns), median(eventRuns), pods))
    BenchmarkReport.record("decode only, byte decoder", megabytes / median(cursorRuns), unit: "MB/s", better: .higher, target: 400)
    BenchmarkReport.record("decode only, JSONDecoder", megabytes / median(foundationRuns), unit: "MB/s", better: .higher)
    BenchmarkReport.record("watch events decoded", Double(pods) / median(eventRuns), unit: "events/s", better: .higher, target: 100_000)
    BenchmarkReport.record("memory held per decoded pod, in-memory pages", cursorHeld, unit: "B", better: .lower, target: 1024)
}

if arguments.count > 3, arguments[1] == "pages" {
    // The decode benchmark's pages, one per line, for other decoders (hack/simdjson-probe).
    let lines = listPages(pods: Int(arguments[2]) ?? 20_000)  // each page ends with a newline
    FileManager.default.createFile(atPath: arguments[3], contents: Data(lines.joined()))
    exit(0)
}
if arguments.count > 2, arguments[1] == "decode" {
    // Decoding alone (for profiling): `ClientBenchmark decode N`.
    try decodeThroughput(pods: Int(arguments[2]) ?? 20_000)
    exit(0)
}
try decodeThroughput(pods: min(podCount, 20_000))
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
var serverCPU: [Double] = []
var decodedCount = 0
let clock = ContinuousClock()
for _ in 0..<runs {
    let serverBefore = child.cpuSeconds
    let start = clock.now
    let list = try await client.listAll(Pod.self, .pods)
    let elapsed = clock.now - start
    serverCPU.append(child.cpuSeconds - serverBefore)
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
print(String(format: "speed-up: %.1fx (target >= 30x)", theirs / ours))
print(String(format: "test API server CPU during each netwatch list: median %.2f s of the %.2f s wall (it serves stored bytes, on the other core)", median(serverCPU), ours))
BenchmarkReport.record("test API server CPU per list", median(serverCPU), unit: "s", better: .lower)
print(String(format: "memory held per decoded pod: %.0f bytes (target <= 1024); client peak RSS %.0f MB", perPod, residentMegabytes("VmHWM")))
BenchmarkReport.record("list + decode \(podCount) pods median", ours, unit: "s", better: .lower)
BenchmarkReport.record("speed-up over kubectl", theirs / ours, unit: "x", better: .higher, target: 30)
BenchmarkReport.record("memory held per decoded pod, listAll", perPod, unit: "B", better: .lower, target: 1024)
