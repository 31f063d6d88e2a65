import DataTree
import Flows
import KubeModel

/// NetworkPolicies proposed from the connections among the inputs: one file per workload at
/// `networkpolicies/<namespace>/<name>.yaml`. Workloads in kube-system, kube-public and
/// kube-node-lease are never subjects.
struct FlowPolicies {
    static let directory = "networkpolicies"

    let snapshot: Snapshot

    func artifacts() -> [Artifact] {
        guard !snapshot.observedConnections.isEmpty else { return [] }
        let resolver = IdentityResolver(pods: snapshot.pods, workloads: snapshot.workloads, services: snapshot.services)
        let edges = EdgeBuilder(resolver: resolver, services: snapshot.services, pods: snapshot.pods).edges(snapshot.observedConnections)
        let selectors = PolicyGenerator.addingReported(snapshot.observedConnections,
                                                       to: PolicyGenerator.selectors(pods: snapshot.pods, workloads: snapshot.workloads, resolver: resolver.workload(of:)))
        return PolicyGenerator(selectors: selectors).policies(edges).compactMap { policy in
            guard let namespace = policy["metadata"]?["namespace"]?.string, let name = policy["metadata"]?["name"]?.string else { return nil }
            return Artifact(path: "\(Self.directory)/\(namespace)/\(name).yaml", bytes: emitYAML(policy), role: .networkPolicy)
        }
    }
}
