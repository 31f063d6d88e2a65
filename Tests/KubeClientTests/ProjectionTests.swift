import Foundation
import KubeModel
import Testing

@Suite("Decoding into projections")
struct ProjectionTests {
    @Test("a Pod keeps what netwatch reads (owners, IPs, ports, deletion) and drops the rest (managedFields, volumes)")
    func podProjection() throws {
        let json = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"shop","uid":"u1","resourceVersion":"7",
         "labels":{"app":"web"},"deletionTimestamp":"2026-01-01T00:00:00Z",
         "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d","uid":"rs1","controller":true,"blockOwnerDeletion":true}],
         "managedFields":[{"manager":"kubelet","fieldsV1":{"f:status":{}}}]},
         "spec":{"nodeName":"n1","containers":[{"name":"app","image":"x","ports":[{"name":"metrics","containerPort":9090}]}],"volumes":[{"name":"v"}]},
         "status":{"phase":"Running","podIP":"10.0.0.1","podIPs":[{"ip":"10.0.0.1"}]}}
        """
        let pod = try JSONDecoder().decode(Pod.self, from: Data(json.utf8))
        #expect(pod.metadata.ownerReferences == [OwnerReference(kind: "ReplicaSet", name: "web-5d", uid: "rs1", controller: true)])
        #expect(pod.metadata.deletionTimestamp == "2026-01-01T00:00:00Z")
        #expect(pod.spec.containers.first?.ports.first?.containerPort == 9090)
        #expect(pod.status.primaryIP == "10.0.0.1")
    }
}
