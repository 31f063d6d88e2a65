import DataTree
import Flows
import Foundation
import KubeModel
import Testing
import YAML

/// A small cluster: shop/web and shop/cart (Deployments, cart behind a Service with a named
/// targetPort), payments/ledger (StatefulSet), CoreDNS, the API server and two outside hosts.
struct Topology {
    static let pods: [Pod] = [
        pod("web-7d9c-abcde", "shop", "10.42.0.5", ["app": "web", "pod-template-hash": "7d9c"], owner: ("ReplicaSet", "web-7d9c"), ports: [("http", 8080)]),
        pod("cart-5f6d-xyz12", "shop", "10.42.0.6", ["app": "cart", "pod-template-hash": "5f6d"], owner: ("ReplicaSet", "cart-5f6d"), ports: [("api", 9090)]),
        pod("ledger-0", "payments", "10.42.1.7", ["app": "ledger", "statefulset.kubernetes.io/pod-name": "ledger-0"], owner: ("StatefulSet", "ledger"), ports: [("pg", 5432)]),
        pod("coredns-1", "kube-system", "10.42.2.2", ["k8s-app": "kube-dns"], owner: ("ReplicaSet", "coredns-66"), ports: [("dns", 53)]),
    ]

    static func pod(_ name: String, _ namespace: String, _ ip: String, _ labels: [String: String], owner: (String, String), ports: [(String, Int)]) -> Pod {
        var metadata = ObjectMeta(name: name, namespace: namespace, labels: labels)
        metadata.ownerReferences = [OwnerReference(kind: owner.0, name: owner.1, controller: true)]
        var status = PodStatus(phase: "Running", podIP: ip)
        status.hostIP = "192.168.0.10"
        return Pod(metadata: metadata, spec: PodSpec(containers: [Container(name: "c", ports: ports.map { ContainerPort(name: $0.0, containerPort: $0.1) })], nodeName: "node-a"), status: status)
    }

    static func workload(_ kind: String, _ name: String, _ namespace: String, selector: [String: String], owner: (String, String)? = nil) -> Workload {
        var metadata = ObjectMeta(name: name, namespace: namespace)
        if let owner { metadata.ownerReferences = [OwnerReference(kind: owner.0, name: owner.1, controller: true)] }
        let document: Node = ["spec": ["selector": ["matchLabels": .mapping(Mapping(selector.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))]]]
        return Workload(kind: kind, metadata: metadata, template: PodTemplateSpec(metadata: ObjectMeta(name: ""), spec: PodSpec()), document: document)
    }

    static let workloads: [Workload] = [
        workload("ReplicaSet", "web-7d9c", "shop", selector: ["app": "web", "pod-template-hash": "7d9c"], owner: ("Deployment", "web")),
        workload("Deployment", "web", "shop", selector: ["app": "web"]),
        workload("ReplicaSet", "cart-5f6d", "shop", selector: ["app": "cart", "pod-template-hash": "5f6d"], owner: ("Deployment", "cart")),
        workload("Deployment", "cart", "shop", selector: ["app": "cart"]),
        workload("StatefulSet", "ledger", "payments", selector: ["app": "ledger"]),
        workload("ReplicaSet", "coredns-66", "kube-system", selector: ["k8s-app": "kube-dns"], owner: ("Deployment", "coredns")),
        workload("Deployment", "coredns", "kube-system", selector: ["k8s-app": "kube-dns"]),
    ]

    static let services: [Service] = [
        try! NodeDecoder().decode(Service.self, from: ["metadata": ["name": "cart", "namespace": "shop"],
            "spec": ["clusterIP": "10.96.0.30", "selector": ["app": "cart"], "ports": [["port": 80, "targetPort": "api", "protocol": "TCP"]]]]),
    ]

    static func connection(_ client: String, _ server: String, _ port: UInt16, _ transport: ObservedConnection.Transport = .tcp) -> ObservedConnection {
        ObservedConnection(key: .init(client: IPAddress(client)!, server: IPAddress(server)!, serverPort: port, transport: transport),
                           firstSeen: 1_800_000_000_000, lastSeen: 1_800_000_060_000, flows: 2, source: "ipfix")
    }

    static let observed: [ObservedConnection] = [
        connection("10.42.0.5", "10.96.0.30", 80),        // web -> Service cart:80 -> cart pods :api (9090)
        connection("10.42.0.6", "10.42.1.7", 5432),       // cart -> ledger
        connection("10.42.0.5", "203.0.113.10", 443),     // web -> an outside API
        connection("198.51.100.4", "10.42.0.5", 8080),    // the world -> web
        connection("10.42.0.6", "10.0.0.1", 6443),        // cart -> the API server
    ]

    static func policies(_ connections: [ObservedConnection]) -> [Node] {
        let resolver = IdentityResolver(pods: pods, workloads: workloads, services: services, apiServerAddresses: [IPAddress("10.0.0.1")!])
        let edges = EdgeBuilder(resolver: resolver, services: services, pods: pods).edges(connections)
        let selectors = PolicyGenerator.selectors(pods: pods, workloads: workloads, resolver: resolver.workload(of:))
        return PolicyGenerator(selectors: selectors, dnsResolvers: [IPAddress("169.254.20.10")!]).policies(edges)
    }

    /// The evaluator's view of a pod, or of an outside address.
    static func endpoint(_ ip: String) -> PolicyEvaluator.Endpoint {
        guard let pod = pods.first(where: { $0.status.podIP == ip }) else { return .init(namespace: nil, address: IPAddress(ip)!) }
        var named: [String: Int] = [:]
        for port in pod.spec.containers.flatMap(\.ports) { if let name = port.name { named[name] = port.containerPort } }
        return .init(namespace: pod.metadata.namespace, labels: pod.metadata.labels, address: IPAddress(ip)!, namedPorts: named)
    }
}

@Suite("NetworkPolicies from observed connections")
struct PolicyGeneratorTests {
    @Test("every observed connection is allowed (on the pod's port behind a Service); connections never observed are denied, DNS excepted")
    func semantics() {
        let evaluator = PolicyEvaluator(policies: Topology.policies(Topology.observed))
        func allowed(_ client: String, _ server: String, _ port: Int, _ transport: ObservedConnection.Transport = .tcp) -> Bool {
            evaluator.allows(from: Topology.endpoint(client), to: Topology.endpoint(server), port: port, transport: transport)
        }
        // Observed (after DNAT for the Service: cart's pod port 9090).
        #expect(allowed("10.42.0.5", "10.42.0.6", 9090))
        #expect(allowed("10.42.0.6", "10.42.1.7", 5432))
        #expect(allowed("10.42.0.5", "203.0.113.10", 443))
        #expect(allowed("198.51.100.4", "10.42.0.5", 8080))
        #expect(allowed("10.42.0.6", "10.0.0.1", 6443))
        // DNS, always: to CoreDNS and to the node-local resolver.
        #expect(allowed("10.42.0.5", "10.42.2.2", 53, .udp) && allowed("10.42.1.7", "10.42.2.2", 53, .tcp))
        #expect(allowed("10.42.0.6", "169.254.20.10", 53, .udp))
        // Never observed.
        #expect(!allowed("10.42.0.5", "10.42.1.7", 5432), "web -> ledger")
        #expect(!allowed("10.42.0.6", "10.42.0.5", 8080), "cart -> web")
        #expect(!allowed("10.42.1.7", "10.42.0.6", 9090), "ledger -> cart")
        #expect(!allowed("10.42.0.5", "10.42.0.6", 9091), "web -> cart on another port")
        #expect(!allowed("10.42.0.5", "10.42.0.6", 9090, .udp), "web -> cart over UDP")
        #expect(!allowed("10.42.0.5", "203.0.113.11", 443), "web -> another outside host")
        #expect(!allowed("10.42.0.5", "8.8.8.8", 53, .udp), "DNS to the internet")
        #expect(!allowed("198.51.100.5", "10.42.0.5", 8080), "another outside client")
        #expect(!allowed("10.42.0.5", "10.0.0.1", 6443), "web -> API server")
    }

    @Test("deterministic: shuffled input gives the same bytes; selectors are the workloads' stable ones; golden, checked by kubernetes-validate in make test")
    func deterministicAndGolden() throws {
        let policies = Topology.policies(Topology.observed)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5 { #expect(Topology.policies(Topology.observed.shuffled(using: &generator)) == policies) }
        #expect(policies.compactMap { $0["metadata"]?["name"]?.string } == ["ledger-statefulset-flows", "cart-deployment-flows", "web-deployment-flows"])
        let text = String(decoding: try YAMLEmitter().emit(documents: policies), as: UTF8.self)
        #expect(!text.contains("pod-template-hash") && !text.contains("statefulset.kubernetes.io/pod-name"))
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/networkpolicies.yaml")
        let bytes = try YAMLEmitter().emit(documents: policies)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try Data(bytes).write(to: file) }
        #expect(FileManager.default.contents(atPath: file.path).map { [UInt8]($0) } == bytes, "run `make golden` after an intended change")
    }
}
