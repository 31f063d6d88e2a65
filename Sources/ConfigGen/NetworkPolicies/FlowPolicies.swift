import DataTree
import Flows
import KubeModel

/// NetworkPolicies proposed from the connections among the inputs, one file per object at
/// `networkpolicies/<namespace>/<name>.yaml`.
///
/// With FlowPolicies among the inputs, their plans decide (subjects, phases, frozen policies,
/// default-deny once all are Stable, companions), "now" being the end of the observation, and
/// every connection the policies in force would deny is a warning. Without, every workload
/// seen in the flows gets a proposal. Workloads in kube-system, kube-public and
/// kube-node-lease are never subjects.
struct FlowPolicies {
    static let directory = "networkpolicies"
    /// Warnings listed per FlowPolicy before the rest are counted.
    static let reportedDenials = 20

    let snapshot: Snapshot

    func artifacts() -> (artifacts: [Artifact], diagnostics: [Diagnostic]) {
        if !snapshot.flowPolicies.isEmpty { return planned() }
        guard !snapshot.observedConnections.isEmpty else { return ([], []) }
        let resolver = IdentityResolver(pods: snapshot.pods, workloads: snapshot.workloads, services: snapshot.services)
        let edges = EdgeBuilder(resolver: resolver, services: snapshot.services, pods: snapshot.pods).edges(snapshot.observedConnections)
        let selectors = PolicyGenerator.addingReported(snapshot.observedConnections,
                                                       to: PolicyGenerator.selectors(pods: snapshot.pods, workloads: snapshot.workloads, resolver: resolver.workload(of:)))
        return (PolicyGenerator(selectors: selectors).policies(edges).compactMap { artifact($0) }, [])
    }

    /// The NetworkPolicy's file; `owner` is the FlowPolicy it was planned for, if any.
    func artifact(_ policy: Node, owner: ObjectReference? = nil) -> Artifact? {
        guard let namespace = policy["metadata"]?["namespace"]?.string, let name = policy["metadata"]?["name"]?.string else { return nil }
        return Artifact(path: "\(Self.directory)/\(namespace)/\(name).yaml", object: policy, role: .networkPolicy, owner: owner)
    }

    func planned() -> (artifacts: [Artifact], diagnostics: [Diagnostic]) {
        let (plans, problems) = FlowPolicyPlanner(snapshot: snapshot).plans()
        var artifacts: [Artifact] = []
        var diagnostics = problems
        for plan in plans {
            let reference = ObjectReference(kind: "FlowPolicy", namespace: plan.namespace, name: plan.name)
            artifacts += (plan.policies + (plan.defaultDeny.map { [$0] } ?? [])).compactMap { artifact($0, owner: reference) }
            for edge in plan.deniedWouldBe.prefix(Self.reportedDenials) {
                diagnostics.append(Diagnostic(.warning, object: reference,
                    message: "\(edge.summary) was first seen after the policies froze and they would deny it; " +
                             "allow it in a NetworkPolicy of your own, or set spec.widenOnNewConnections"))
            }
            if plan.deniedWouldBe.count > Self.reportedDenials {
                diagnostics.append(Diagnostic(.warning, object: reference, message: "and \(plan.deniedWouldBe.count - Self.reportedDenials) more connections the policies would deny"))
            }
        }
        return (artifacts.sorted { $0.path < $1.path }, diagnostics)
    }
}
