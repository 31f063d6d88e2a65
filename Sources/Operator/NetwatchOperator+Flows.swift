import ConfigGen
import DataTree
import Flows
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import NetWatchAPI
import Prometheus
import RenderIO
import Synchronization

extension NetwatchOperator {
    static let flowPolicies = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "flowpolicies", kind: "FlowPolicy", namespaced: true)
    static let networkPolicies = APIResource(group: "networking.k8s.io", version: "v1", resource: "networkpolicies", kind: "NetworkPolicy", namespaced: true)
    static let flowPolicyLabel = "netwatch.dev/flow-policy"
    /// Would-be-denied connections listed in a FlowPolicy's status (all are counted).
    static let listedDenials = 50

    /// Runs the flow sources the FlowPolicies name, plans every FlowPolicy with the operator's
    /// clock, reports status, Events and metrics, and in enforce mode applies the Stable
    /// workloads' policies, then the default-deny (last, so nothing is isolated before its
    /// allow policies exist). Every replica runs the sources; only the leader writes.
    ///
    /// Applied policies are never narrowed or removed while the FlowPolicy stays in enforce
    /// mode (a restart loses the observed connections; proposals learn again and replace the
    /// applied ones once Stable); switching to observe or audit removes what it applied.
    func reconcileFlows() async throws -> ReconcileResult {
        // Without FlowPolicies nothing runs and the snapshot is not decoded.
        let flowPolicyStore = allReflectors.first { $0.resource == Self.flowPolicies }?.reflector
        if await flowPolicyStore?.snapshot().objects.isEmpty ?? true {
            await flowSources.reconcile(FlowSources.Desired())
            return .awaitChange
        }
        var stored: [String: Node] = [:]
        var (snapshot, problems) = await storedSnapshot { key, node in
            if node["kind"] == "FlowPolicy" { stored[key] = node }
        }
        let now = options.wallClock.epochMilliseconds
        let desired = Self.desiredSources(snapshot.flowPolicies)
        await flowSources.reconcile(desired)
        await flowSources.poll(now: now)
        recordFlowStatistics(await flowSources.statistics)
        if let lease, !(await lease.isLeader) { return .requeue(after: options.flowInterval) }

        snapshot.observedConnections = await flowSources.connections
        let starts = flowStarts.withLock { starts in
            for policy in snapshot.flowPolicies where starts["\(policy.namespace)/\(policy.name)"] == nil { starts["\(policy.namespace)/\(policy.name)"] = now }
            return starts
        }
        let webhook = options.webhook.map { (namespace: $0.service.namespace, name: $0.service.name) }
        let (plans, planProblems) = FlowPolicyPlanner(snapshot: snapshot, now: now, observationStarts: starts, webhookService: webhook).plans()
        let timestamp = options.wallClock.timestamp
        for plan in plans {
            let key = "\(plan.namespace)/\(plan.name)"
            guard let node = stored[key] else { continue }
            let mine = planProblems.filter { $0.object?.namespace == plan.namespace && $0.object?.name == plan.name }
            try await writeStatus(Self.flowPolicies, namespace: plan.namespace, name: plan.name, stored: node) { basis in
                FlowPolicyStatus.status(stored: basis, plan: plan, problems: mine, learningSince: starts[key] ?? now, now: timestamp)
            }
            let denials = plan.deniedWouldBe.map { Diagnostic(.warning, message: "\(FlowPolicyPlanner.describe($0)) would be denied by the learned policies") }
            await events.record(denials, about: node, reason: "ConnectionWouldBeDenied")
            metrics.flowPolicyGauge("flowpolicy_would_deny_connections", "Connections first seen after a FlowPolicy's policies froze that they would deny.", plan)
                .set(to: Double(plan.deniedWouldBe.count))
            metrics.flowPolicyGauge("flowpolicy_observed_connections", "Distinct connections (peer, port, protocol) observed to or from a FlowPolicy's workloads.", plan)
                .set(to: Double(plan.observedConnections))
            metrics.flowPolicyGauge("flowpolicy_stable_workloads", "Workloads of a FlowPolicy whose policy is Stable.", plan)
                .set(to: Double(plan.workloads.filter { $0.phase == .stable }.count))
            try await enforce(plan, owner: node)
        }
        // FlowPolicies that did not decode: Accepted False naming the field (their Events come from the render).
        for (key, node) in stored where !plans.contains(where: { "\($0.namespace)/\($0.name)" == key }) {
            let namespace = node["metadata"]?["namespace"]?.string ?? "default", name = node["metadata"]?["name"]?.string ?? ""
            let mine = (problems + planProblems).filter { $0.object?.kind == "FlowPolicy" && $0.object?.namespace == namespace && $0.object?.name == name }
            try await writeStatus(Self.flowPolicies, namespace: namespace, name: name, stored: node) { basis in
                FlowPolicyStatus.rejected(stored: basis, problems: mine, now: timestamp)
            }
        }
        return .requeue(after: options.flowInterval)
    }

    static func desiredSources(_ policies: [FlowPolicy]) -> FlowSources.Desired {
        var desired = FlowSources.Desired()
        for policy in policies {
            for source in policy.spec.sources {
                if let ipfix = source.ipfix { desired.ipfixPorts.insert(ipfix.port) }
                if let hubble = source.hubble { desired.hubblePaths.insert(hubble.path) }
                if let istio = source.istio {
                    let window = istio.window ?? policy.spec.learning.window
                    desired.istio.insert(.init(prometheusURL: istio.prometheusURL, window: window.text, windowMilliseconds: Int64(window.milliseconds)))
                }
            }
        }
        return desired
    }

    /// In enforce mode: applies the Stable workloads' policies, then the default-deny, each
    /// owned by the FlowPolicy and skipped when unchanged. Otherwise: removes what it applied.
    func enforce(_ plan: FlowPolicyPlan, owner: Node) async throws {
        let selector = "\(Self.flowPolicyLabel)=\(plan.name),app.kubernetes.io/managed-by=netwatch"
        guard plan.mode == .enforce else {
            let applied = try await client.list(Node.self, Self.networkPolicies, namespace: plan.namespace, options: ListOptions(labelSelector: selector))
            for policy in applied.items {
                guard let name = policy["metadata"]?["name"]?.string else { continue }
                do {
                    try await client.delete(Self.networkPolicies, namespace: plan.namespace, name: name)
                    logger.info("learned NetworkPolicy removed (FlowPolicy not in enforce mode)", metadata: ["flows.policy": "\(plan.namespace)/\(name)"])
                } catch let error as APIError where error.isNotFound {}
                appliedFlowPolicies.withLock { $0["\(plan.namespace)/\(name)"] = nil }
            }
            return
        }
        guard let uid = owner["metadata"]?["uid"]?.string else { return }
        for policy in plan.stablePolicies + (plan.defaultDeny.map { [$0] } ?? []) {
            guard case .mapping(var object) = policy, case .mapping(var metadata)? = object["metadata"], let name = metadata["name"]?.string else { continue }
            var labels = metadata["labels"]?.mapping ?? Mapping()
            labels[Self.flowPolicyLabel] = .string(plan.name)
            metadata["labels"] = .mapping(labels)
            metadata["ownerReferences"] = [[
                "apiVersion": "netwatch.dev/v1alpha1", "kind": "FlowPolicy", "name": .string(plan.name), "uid": .string(uid), "controller": true, "blockOwnerDeletion": true,
            ]]
            // The phase annotation changes as the proposal moves; what is applied is Stable by definition.
            if case .mapping(var annotations)? = metadata["annotations"] {
                annotations["netwatch.dev/phase"] = nil
                metadata["annotations"] = .mapping(annotations)
            }
            object["metadata"] = .mapping(metadata)
            let key = "\(plan.namespace)/\(name)"
            if appliedFlowPolicies.withLock({ $0[key] }) == .mapping(object) { continue }
            let _: Node = try await client.apply(Node.self, Self.networkPolicies, namespace: plan.namespace, name: name, object: .mapping(object),
                                                 fieldManager: ClusterApplier.fieldManager, force: true)
            appliedFlowPolicies.withLock { $0[key] = .mapping(object) }
            logger.info("learned NetworkPolicy applied", metadata: ["flows.policy": "\(key)"])
        }
    }

    /// Adds what the sources counted since the last reconcile to the operator's counters.
    func recordFlowStatistics(_ statistics: FlowSources.Statistics) {
        let previous = lastFlowStatistics.withLock { last in
            defer { last = statistics }
            return last
        }
        func delta(_ now: Int, _ before: Int) -> Int64 { Int64(max(0, now - before)) }
        metrics.flowRecords.increment(by: delta(statistics.records, previous.records))
        metrics.flowPackets.increment(by: delta(statistics.packets, previous.packets))
        metrics.flowBadRecords(source: "ipfix").increment(by: delta(statistics.malformedPackets, previous.malformedPackets))
        metrics.flowBadRecords(source: "hubble").increment(by: delta(statistics.badHubbleRecords, previous.badHubbleRecords))
        metrics.flowBadRecords(source: "istio").increment(by: delta(statistics.failedIstioQueries, previous.failedIstioQueries))
        metrics.flowDroppedRecords(reason: "unknown_template").increment(by: delta(statistics.unknownTemplateRecords, previous.unknownTemplateRecords))
        metrics.flowDroppedRecords(reason: "expired_template").increment(by: delta(statistics.expiredTemplateRecords, previous.expiredTemplateRecords))
        metrics.flowDroppedRecords(reason: "connection_limit").increment(by: delta(statistics.droppedRecords, previous.droppedRecords))
        metrics.flowTemplateRefusals(reason: "template_limit").increment(by: delta(statistics.refusedTemplates, previous.refusedTemplates))
        metrics.flowTemplateRefusals(reason: "exporter_evicted").increment(by: delta(statistics.evictedExporters, previous.evictedExporters))
    }
}
