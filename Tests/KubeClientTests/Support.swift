import CurlTransport
import DataTree
import Foundation
import KubeClient
import KubeTesting
import Logging
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A test API server on loopback and a client for it over libcurl.
struct TestCluster {
    let server: TestAPIServer
    let client: KubeClient
    let transport: CurlTransport

    static func start(
        options: TestAPIServer.Options = .init(), credentials: Credentials = .none, tls: TLSSettings = TLSSettings(),
        retryPolicy: KubeClient.RetryPolicy = .init(initialBackoff: .milliseconds(20)), pageSize: Int = 500,
        transportOptions: CurlTransport.Options? = nil
    ) async throws -> TestCluster {
        let server = try await TestAPIServer.start(options)
        let logger = Logger(label: "test")
        let configuration = KubeConfiguration(server: server.url, tls: tls, credentials: credentials)
        var transport = transportOptions ?? CurlTransport.Options()
        transport.tls = tls
        let curl = try CurlTransport(options: transport, logger: logger)
        let client = KubeClient(configuration: configuration, transport: curl, logger: logger, retryPolicy: retryPolicy, pageSize: pageSize)
        return TestCluster(server: server, client: client, transport: curl)
    }

    func stop() async { await server.stop() }
}

/// Runs `body` against a fresh cluster and always stops it.
func withCluster<T>(
    options: TestAPIServer.Options = .init(), credentials: Credentials = .none, tls: TLSSettings = TLSSettings(), pageSize: Int = 500,
    transportOptions: CurlTransport.Options? = nil,
    _ body: (TestCluster) async throws -> T
) async throws -> T {
    let cluster = try await TestCluster.start(options: options, credentials: credentials, tls: tls, pageSize: pageSize, transportOptions: transportOptions)
    do {
        let result = try await body(cluster)
        await cluster.stop()
        return result
    } catch {
        await cluster.stop()
        throw error
    }
}

func podNode(_ name: String, namespace: String = "default", labels: [String: String] = [:], ip: String = "127.0.0.1", padding: Int = 0) -> Node {
    var metadata = Mapping([("name", .string(name)), ("namespace", .string(namespace))])
    if !labels.isEmpty { metadata["labels"] = .sortedStringMap(labels) }
    if padding > 0 { metadata["annotations"] = ["padding": .string(String(repeating: "x", count: padding))] }
    return [
        "apiVersion": "v1", "kind": "Pod", "metadata": .mapping(metadata),
        "spec": ["nodeName": "node-1", "containers": [["name": "app", "image": "example/app:1", "ports": [["name": "metrics", "containerPort": 9100]]]]],
        "status": ["phase": "Running", "podIP": .string(ip), "podIPs": [["ip": .string(ip)]]],
    ]
}

func configMapNode(_ name: String, namespace: String = "default", data: [String: String]) -> Node {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)], "data": .sortedStringMap(data)]
}

/// A small projection, as netwatch's own decoding keeps only what it reads.
struct ConfigMapView: Decodable, Sendable, Equatable {
    struct Metadata: Decodable, Sendable, Equatable {
        var name: String
        var resourceVersion: String?
        var uid: String?
    }
    var metadata: Metadata
    var data: [String: String]?
}

/// Runs a command and returns its exit status, standard output and standard error.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-kube-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

import NetWatchAPI

/// netwatch's own CRDs, as `netwatch crds` generates them.
enum NetWatchTestCRD {
    static var monitoringStackCRD: Node? {
        CustomResourceDefinitions.all().first { $0.document["spec"]?["names"]?["kind"] == "MonitoringStack" }?.document
    }
    static var networkMonitorCRD: Node? {
        CustomResourceDefinitions.all().first { $0.document["spec"]?["names"]?["kind"] == "NetworkMonitor" }?.document
    }
}

import CurlTransport

enum CurlTransportFactory {
    static func make(_ options: CurlTransport.Options = .init()) throws -> CurlTransport {
        try CurlTransport(options: options, logger: Logger(label: "test"))
    }
}
