import ConfigGen
import DataTree
import Flows
import KubeModel

/// The status netwatch reports on a FlowPolicy: its phase (the least advanced of its
/// workloads'), when learning started, how many distinct connections were observed, each
/// workload's phase and policy, the policies proposed, the connections the policies in force
/// would deny (the first 50, all counted), and `Accepted`.
///
/// Pure: the same plan yields an identical status, so an unchanged FlowPolicy is not rewritten.
enum FlowPolicyStatus {
    static func status(stored: Node, plan: FlowPolicyPlan, problems: [Diagnostic], learningSince: Int64, now: String) -> Node {
        var status = Mapping()
        if let generation = stored["metadata"]?["generation"] { status["observedGeneration"] = generation }
        status["phase"] = .string(plan.phase.rawValue)
        status["learningSince"] = .string(Timestamp.format(milliseconds: learningSince))
        status["observedConnections"] = .int(plan.observedConnections)
        status["workloads"] = .sequence(plan.workloads.map { workload in
            ["kind": .string(workload.workload.kind), "name": .string(workload.workload.name), "phase": .string(workload.phase.rawValue),
             "policy": .string(workload.policyName), "connections": .int(workload.edges)]
        })
        status["policies"] = .strings(plan.policies.compactMap { $0["metadata"]?["name"]?.string } + (plan.defaultDeny?["metadata"]?["name"]?.string.map { [$0] } ?? []))
        status["deniedWouldBe"] = .sequence(plan.deniedWouldBe.prefix(FlowPolicyReconciler.listedDenials).map { edge in
            ["connection": .string(edge.summary), "firstSeen": .string(Timestamp.format(milliseconds: edge.firstSeen)), "flows": .int(edge.flows)]
        })
        status["deniedWouldBeCount"] = .int(plan.deniedWouldBe.count)
        let previous = stored["status"]?["conditions"]?.sequence ?? []
        let warnings = problems.map { "\($0.field.map { "\($0): " } ?? "")\($0.message)" }
        status["conditions"] = [
            Condition.make("Accepted", true, reason: "Accepted", message: warnings.first.map { "accepted with a warning: \($0)" } ?? "the FlowPolicy is valid", previous: previous, now: now),
            Condition.make("Stable", plan.phase == .stable, reason: plan.phase.rawValue,
                           message: plan.phase == .stable ? "every selected workload's policy is Stable" : "\(plan.workloads.filter { $0.phase != .stable }.count) workload(s) still learning or stabilizing",
                           previous: previous, now: now),
        ]
        return .mapping(status)
    }

    static func rejected(stored: Node, problems: [Diagnostic], now: String) -> Node {
        var status = Mapping()
        if let generation = stored["metadata"]?["generation"] { status["observedGeneration"] = generation }
        let errors = problems.filter { $0.severity == .error }
        let message = errors.first.map { "\($0.field.map { "\($0): " } ?? "")\($0.message)" + (errors.count > 1 ? " (and \(errors.count - 1) more; see the Events of this object)" : "") }
            ?? "the FlowPolicy could not be read"
        let previous = stored["status"]?["conditions"]?.sequence ?? []
        status["conditions"] = [Condition.make("Accepted", false, reason: "InvalidConfiguration", message: message, previous: previous, now: now)]
        return .mapping(status)
    }
}
