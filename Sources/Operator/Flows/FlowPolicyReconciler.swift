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

/// Learns NetworkPolicies from observed flows: runs the flow sources FlowPolicies name
/// (IPFIX/NetFlow collectors, Hubble files, Istio's metrics), plans every FlowPolicy with the
/// operator's clock, reports status, Events and metrics, and in enforce mode applies the
/// learned policies.
///
/// Guarantees: every replica runs the sources, so a new leader has observed too; only the
/// leader writes; without FlowPolicies no source runs and nothing is decoded.
final class FlowPolicyReconciler: Sendable {
    /// The sources are shared by every FlowPolicy, so one request plans them all.
    enum Request: Hashable, Sendable { case allFlowPolicies }

    let context: OperatorContext
    let controller: Controller<Request, ContinuousClock>
    let sources: FlowSources
    /// When this process started observing for each FlowPolicy (epoch milliseconds).
    private let learningStarts = Mutex<[ObjectReference: Int64]>([:])
    /// Learned NetworkPolicies last applied, so unchanged ones are not sent.
    private let applied = Mutex<[ObjectReference: Node]>([:])
    private let lastStatistics = Mutex(FlowSources.Statistics())

    init(context: OperatorContext, transport: any HTTPTransport) {
        self.context = context
        controller = Controller(clock: ContinuousClock(), logger: context.logger)
        sources = FlowSources(listenHost: context.options.flowListenHost, transport: transport, logger: context.logger)
    }

    static func reference(_ policy: FlowPolicy) -> ObjectReference {
        ObjectReference(kind: NetWatchKind.flowPolicy.rawValue, namespace: policy.namespace, name: policy.name)
    }

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
    func reconcile() async throws -> ReconcileResult {
        guard await context.cache.isSynced() else { return .requeue(after: .milliseconds(200)) }
        // Without FlowPolicies nothing runs and the snapshot is not decoded.
        let stored = await context.cache.objects(of: NetWatchKind.flowPolicy.resource)
        if stored.isEmpty {
            await sources.reconcile(FlowSources.Desired())
            return .awaitChange
        }
        var (snapshot, problems) = await context.cache.snapshot()
        let now = context.options.wallClock.epochMilliseconds
        let desired = Self.desiredSources(snapshot.flowPolicies)
        await sources.reconcile(desired)
        await sources.poll(now: now)
        recordFlowStatistics(await sources.statistics)
        guard await context.isLeading else {
            context.metrics.flowEdges.update([], plans: [])  // the leader exports the graph
            return .requeue(after: context.options.flowInterval)
        }

        snapshot.observedConnections = await sources.connections
        let starts = learningStarts.withLock { starts in
            for policy in snapshot.flowPolicies where starts[Self.reference(policy)] == nil { starts[Self.reference(policy)] = now }
            return starts
        }
        let webhook = context.options.webhook.map { (namespace: $0.service.namespace, name: $0.service.name) }
        let observationStarts = Dictionary(starts.map { ($0.key.namespacedName, $0.value) }) { first, _ in first }
        let (plans, planProblems, edges) = FlowPolicyPlanner(snapshot: snapshot, now: now, observationStarts: observationStarts, webhookService: webhook).plansAndEdges()
        let timestamp = context.options.wallClock.timestamp
        for plan in plans {
            let reference = ObjectReference(kind: NetWatchKind.flowPolicy.rawValue, namespace: plan.namespace, name: plan.name)
            guard let node = stored[reference] else { continue }
            let mine = planProblems.filter { $0.object?.namespace == plan.namespace && $0.object?.name == plan.name }
            try await context.status.write(NetWatchKind.flowPolicy.resource, reference, stored: node) { basis in
                FlowPolicyStatus.status(stored: basis, plan: plan, problems: mine, learningSince: starts[reference] ?? now, now: timestamp)
            }
            let denials = plan.deniedWouldBe.map { Diagnostic(.warning, message: "\($0.summary) would be denied by the learned policies") }
            await context.events.record(denials, about: node, reason: "ConnectionWouldBeDenied")
            context.metrics.flowPolicyGauge("flowpolicy_would_deny_connections", "Connections first seen after a FlowPolicy's policies froze that they would deny.", plan)
                .set(to: Double(plan.deniedWouldBe.count))
            context.metrics.flowPolicyGauge("flowpolicy_observed_connections", "Distinct connections (peer, port, protocol) observed to or from a FlowPolicy's workloads.", plan)
                .set(to: Double(plan.observedConnections))
            context.metrics.flowPolicyGauge("flowpolicy_stable_workloads", "Workloads of a FlowPolicy whose policy is Stable.", plan)
                .set(to: Double(plan.workloads.filter { $0.phase == .stable }.count))
            try await enforce(plan, owner: node)
        }
        context.metrics.flowEdges.update(edges, plans: plans)
        // FlowPolicies that did not decode: Accepted False naming the field (their Events come from the render).
        for (reference, node) in stored.sorted(by: { $0.key < $1.key }) where !plans.contains(where: { $0.namespace == reference.namespace && $0.name == reference.name }) {
            let mine = (problems + planProblems).filter { $0.object == reference }
            try await context.status.write(NetWatchKind.flowPolicy.resource, reference, stored: node) { basis in
                FlowPolicyStatus.rejected(stored: basis, problems: mine, now: timestamp)
            }
        }
        return .requeue(after: context.options.flowInterval)
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
            let applied = try await context.client.list(Node.self, Self.networkPolicies, namespace: plan.namespace, options: ListOptions(labelSelector: selector))
            for policy in applied.items {
                guard let name = policy["metadata"]?["name"]?.string else { continue }
                do {
                    try await context.client.delete(Self.networkPolicies, namespace: plan.namespace, name: name)
                    context.logger.info("learned NetworkPolicy removed (FlowPolicy not in enforce mode)", metadata: ["flows.policy": "\(plan.namespace)/\(name)"])
                } catch let error as APIError where error.isNotFound {}
                self.applied.withLock { $0[ObjectReference(kind: "NetworkPolicy", namespace: plan.namespace, name: name)] = nil }
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
            let key = ObjectReference(kind: "NetworkPolicy", namespace: plan.namespace, name: name)
            if self.applied.withLock({ $0[key] }) == .mapping(object) { continue }
            let _: Node = try await context.client.apply(Node.self, Self.networkPolicies, namespace: plan.namespace, name: name, object: .mapping(object),
                                                 fieldManager: ClusterApplier.fieldManager, force: true)
            self.applied.withLock { $0[key] = .mapping(object) }
            context.logger.info("learned NetworkPolicy applied", metadata: ["flows.policy": "\(key.namespacedName)"])
        }
    }

    /// Adds what the sources counted since the last reconcile to the operator's counters.
    func recordFlowStatistics(_ statistics: FlowSources.Statistics) {
        let previous = lastStatistics.withLock { last in
            defer { last = statistics }
            return last
        }
        func delta(_ now: Int, _ before: Int) -> Int64 { Int64(max(0, now - before)) }
        context.metrics.flowRecords.increment(by: delta(statistics.records, previous.records))
        context.metrics.flowPackets.increment(by: delta(statistics.packets, previous.packets))
        context.metrics.flowBadRecords(source: "ipfix").increment(by: delta(statistics.malformedPackets, previous.malformedPackets))
        context.metrics.flowBadRecords(source: "hubble").increment(by: delta(statistics.badHubbleRecords, previous.badHubbleRecords))
        context.metrics.flowBadRecords(source: "istio").increment(by: delta(statistics.failedIstioQueries, previous.failedIstioQueries))
        context.metrics.flowDroppedRecords(reason: "unknown_template").increment(by: delta(statistics.unknownTemplateRecords, previous.unknownTemplateRecords))
        context.metrics.flowDroppedRecords(reason: "expired_template").increment(by: delta(statistics.expiredTemplateRecords, previous.expiredTemplateRecords))
        context.metrics.flowDroppedRecords(reason: "connection_limit").increment(by: delta(statistics.droppedRecords, previous.droppedRecords))
        context.metrics.flowTemplateRefusals(reason: "template_limit").increment(by: delta(statistics.refusedTemplates, previous.refusedTemplates))
        context.metrics.flowTemplateRefusals(reason: "exporter_evicted").increment(by: delta(statistics.evictedExporters, previous.evictedExporters))
    }
}
