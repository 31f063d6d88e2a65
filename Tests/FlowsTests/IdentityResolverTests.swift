import DataTree
import Flows
import KubeModel
import Testing

@Suite("Identity of flow addresses")
struct IdentityResolverTests {
    static func pod(_ name: String, ip: String, owner: (String, String)? = nil, created: String? = nil, deleted: String? = nil,
                    hostNetwork: Bool = false, node: String = "node-a", hostIP: String = "192.168.0.10") throws -> Pod {
        var metadata = Mapping()
        metadata["name"] = .string(name)
        metadata["namespace"] = "shop"
        if let owner { metadata["ownerReferences"] = [["apiVersion": "apps/v1", "kind": .string(owner.0), "name": .string(owner.1), "controller": true]] }
        if let created { metadata["creationTimestamp"] = .string(created) }
        if let deleted { metadata["deletionTimestamp"] = .string(deleted) }
        let node: Node = ["metadata": .mapping(metadata), "spec": ["nodeName": .string(node), "hostNetwork": .bool(hostNetwork), "containers": [["name": "c"]]],
                          "status": ["phase": "Running", "podIP": .string(ip), "hostIP": .string(hostIP)]]
        return try NodeDecoder().decode(Pod.self, from: node)
    }

    static func workload(_ kind: String, _ name: String, owner: (String, String)? = nil) -> Workload {
        var metadata = ObjectMeta(name: name, namespace: "shop")
        if let owner { metadata.ownerReferences = [OwnerReference(kind: owner.0, name: owner.1, controller: true)] }
        return Workload(kind: kind, metadata: metadata, template: PodTemplateSpec(metadata: ObjectMeta(name: ""), spec: PodSpec()))
    }

    @Test("owners are walked to the workload; a reused IP belongs to the pod that held it at the time; nodes, Services, the API server and the rest")
    func resolve() throws {
        let t = { (text: String) in Timestamp.parse(text)! }
        let resolver = IdentityResolver(
            pods: [
                try Self.pod("web-7d9c-abcde", ip: "10.42.0.5", owner: ("ReplicaSet", "web-7d9c"), created: "2026-11-22T10:00:00Z", deleted: "2026-11-22T11:00:00Z"),
                try Self.pod("report-289-x", ip: "10.42.0.5", owner: ("Job", "report-289"), created: "2026-11-22T11:00:05Z"),
                try Self.pod("loner", ip: "10.42.0.9"),
                try Self.pod("agent", ip: "192.168.0.11", owner: ("DaemonSet", "agent"), hostNetwork: true, node: "node-b", hostIP: "192.168.0.11"),
            ],
            workloads: [Self.workload("ReplicaSet", "web-7d9c", owner: ("Deployment", "web")), Self.workload("Job", "report-289", owner: ("CronJob", "report"))],
            services: [try NodeDecoder().decode(Service.self, from: ["metadata": ["name": "web", "namespace": "shop"], "spec": ["clusterIP": "10.96.0.20"]])],
            apiServerAddresses: [IPAddress("10.0.0.1")!])
        let address = IPAddress("10.42.0.5")!
        #expect(resolver.resolve(address, at: t("2026-11-22T10:30:00Z")) == .workload(.init(namespace: "shop", kind: "Deployment", name: "web")))
        #expect(resolver.resolve(address, at: t("2026-11-22T11:30:00Z")) == .workload(.init(namespace: "shop", kind: "CronJob", name: "report")))
        #expect(resolver.resolve(address, at: t("2026-11-22T11:00:02Z")) == .external(address), "between the two pods the IP belonged to no one")
        #expect(resolver.resolve(IPAddress("10.42.0.9")!, at: 0) == .workload(.init(namespace: "shop", kind: "Pod", name: "loner")))
        #expect(resolver.resolve(IPAddress("192.168.0.11")!, at: 0) == .node("node-b", IPAddress("192.168.0.11")!), "a host-network pod is its node")
        #expect(resolver.resolve(IPAddress("192.168.0.10")!, at: 0) == .node("node-a", IPAddress("192.168.0.10")!))
        #expect(resolver.resolve(IPAddress("10.96.0.20")!, at: 0) == .service(namespace: "shop", name: "web"))
        #expect(resolver.resolve(IPAddress("10.0.0.1")!, at: 0) == .apiServer(IPAddress("10.0.0.1")!))
        #expect(resolver.resolve(IPAddress("203.0.113.7")!, at: 0) == .external(IPAddress("203.0.113.7")!))
    }
}
