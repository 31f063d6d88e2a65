public import DataTree
public import Flows
public import KubeModel
public import NetWatchAPI

/// What one FlowPolicy decides at an instant: each selected workload's phase and policy, the
/// default-deny once all of them are Stable, and the connections the policies in force would
/// deny.
public struct FlowPolicyPlan: Sendable {
    public struct WorkloadState: Sendable, Hashable {
        public var workload: WorkloadReference
        public var phase: PolicyLifecycle.Phase
        public var policyName: String
        /// Distinct edges (peer, port, protocol) observed to or from it.
        public var edges: Int
    }

    public var namespace: String
    public var name: String
    public var mode: FlowPolicySpec.Mode
    /// The least advanced phase of its workloads (Learning with none).
    public var phase: PolicyLifecycle.Phase
    public var workloads: [WorkloadState]
    /// One NetworkPolicy per workload, sorted by name: in audit and enforce mode a Stable
    /// workload's policy is frozen as it was when it became Stable (unless widening).
    public var policies: [Node]
    /// The separate default-deny, present only when every selected workload is Stable.
    public var defaultDeny: Node?
    /// Edges the policies in force (Stable workloads' policies and default-denies of all
    /// FlowPolicies) would deny, sorted; only audit and enforce mode freeze policies, so only
    /// they can have any.
    public var deniedWouldBe: [ResolvedEdge]
    /// Learning window start and end (epoch milliseconds).
    public var learningWindow: (start: Int64, end: Int64)

    /// Distinct edges (peer, port, protocol) observed to or from its workloads (an edge between
    /// two of them counts for each).
    public var observedConnections: Int { workloads.reduce(0) { $0 + $1.edges } }

    /// The policies that are in force in enforce mode (and staged in audit mode): Stable workloads' only.
    public var stablePolicies: [Node] {
        let stable = Set(workloads.filter { $0.phase == .stable }.map(\.policyName))
        return policies.filter { stable.contains($0["metadata"]?["name"]?.string ?? "") }
    }
}

/// Turns FlowPolicies and observed connections into plans, the same way offline (`netwatch
/// render`, where "now" is the end of the observation) and in the operator (its clock).
///
/// Subjects are the workloads in the FlowPolicy's namespace whose pod template labels (or,
/// for workloads known only from flows, reported labels) its `podSelector` matches; a workload
/// two FlowPolicies select belongs to the first by name. Each gets a policy, observed or not:
/// one nothing talked to is isolated but for DNS and netwatch's companions.
public struct FlowPolicyPlanner: Sendable {
    public let snapshot: Snapshot
    public let now: Int64
    /// When observation started, per FlowPolicy (`namespace/name`); else the first flow.
    public let observationStarts: [String: Int64]
    let defaultStart: Int64
    let webhookService: (namespace: String, name: String)?

    public init(snapshot: Snapshot, now: Int64? = nil, observationStarts: [String: Int64] = [:], webhookService: (namespace: String, name: String)? = nil) {
        self.snapshot = snapshot
        let connections = snapshot.observedConnections
        let end = connections.map(\.lastSeen).max() ?? 0
        self.now = now ?? end
        defaultStart = connections.map(\.firstSeen).min() ?? self.now
        self.observationStarts = observationStarts
        self.webhookService = webhookService
    }

    /// Labels and named ports of a workload's pods.
    struct Facts {
        var labels: [String: String]
        var namedPorts: [String: Int]
    }

    /// What every FlowPolicy's plan reads, computed once: workload facts, selectors, each
    /// workload's edges, and the companions.
    struct Context {
        var facts: [WorkloadReference: Facts]
        var selectors: [WorkloadReference: [String: String]]
        var edges: [WorkloadReference: [ResolvedEdge]]
        var companions: PolicyCompanions
        /// Every observed edge, sorted (what the live service graph shows).
        var allEdges: [ResolvedEdge]
    }

    static let excludedNamespaces: Set<String> = ["kube-system", "kube-public", "kube-node-lease"]

    public func plans() -> (plans: [FlowPolicyPlan], diagnostics: [Diagnostic]) {
        let (plans, diagnostics, _) = plansAndEdges()
        return (plans, diagnostics)
    }

    /// The plans, and every observed edge they were made from (resolved once for both).
    public func plansAndEdges() -> (plans: [FlowPolicyPlan], diagnostics: [Diagnostic], edges: [ResolvedEdge]) {
        let context = makeContext()
        var diagnostics: [Diagnostic] = []
        var taken: [WorkloadReference: String] = [:]
        var plans: [FlowPolicyPlan] = []
        var lateEdges: [[ResolvedEdge]] = []
        for flowPolicy in snapshot.flowPolicies.sorted(by: { ($0.namespace, $0.name) < ($1.namespace, $1.name) }) {
            if Self.excludedNamespaces.contains(flowPolicy.namespace) {
                diagnostics.append(Diagnostic(.error, object: Self.reference(flowPolicy), source: flowPolicy.source,
                    message: "\(flowPolicy.namespace) is never given learned policies (isolating the control plane from what a window happened to see is how outages start); the FlowPolicy is ignored"))
                continue
            }
            let subjects = subjects(of: flowPolicy, context: context, taken: &taken, diagnostics: &diagnostics)
            let (plan, late) = plan(flowPolicy, subjects: subjects, context: context)
            plans.append(plan)
            lateEdges.append(late)
        }
        let denied = deniedWouldBe(lateEdges, in: plans, context: context)
        for index in plans.indices { plans[index].deniedWouldBe = denied[index] }
        return (plans, diagnostics, context.allEdges)
    }

    static func reference(_ flowPolicy: FlowPolicy) -> ObjectReference {
        ObjectReference(kind: "FlowPolicy", namespace: flowPolicy.namespace, name: flowPolicy.name)
    }

    func makeContext() -> Context {
        let resolver = IdentityResolver(pods: snapshot.pods, workloads: snapshot.workloads, services: snapshot.services)
        let edges = EdgeBuilder(resolver: resolver, services: snapshot.services, pods: snapshot.pods).edges(snapshot.observedConnections)
        let selectors = PolicyGenerator.addingReported(snapshot.observedConnections,
                                                       to: PolicyGenerator.selectors(pods: snapshot.pods, workloads: snapshot.workloads, resolver: resolver.workload(of:)))
        // Labels and named ports of each workload's pods: from templates, pods, else its selector.
        var facts: [WorkloadReference: Facts] = [:]
        func ports(_ containers: [Container]) -> [String: Int] {
            var named: [String: Int] = [:]
            for port in containers.flatMap(\.ports) { if let name = port.name { named[name] = port.containerPort } }
            return named
        }
        for workload in snapshot.workloads where workload.metadata.ownerReferences.isEmpty {
            let reference = WorkloadReference(namespace: workload.metadata.namespace ?? "default", kind: workload.kind, name: workload.metadata.name)
            facts[reference] = Facts(labels: workload.template.metadata.labels, namedPorts: ports(workload.template.spec.containers))
        }
        for pod in snapshot.pods where !pod.spec.hostNetwork {
            let reference = resolver.workload(of: pod)
            if facts[reference] == nil { facts[reference] = Facts(labels: pod.metadata.labels, namedPorts: ports(pod.spec.containers)) }
        }
        // Owned workloads (a Deployment's ReplicaSets, a CronJob's Jobs) are never subjects: their root is.
        let owned = Set(snapshot.workloads.filter { !$0.metadata.ownerReferences.isEmpty }.map {
            WorkloadReference(namespace: $0.metadata.namespace ?? "default", kind: $0.kind, name: $0.metadata.name)
        })
        for (reference, selector) in selectors where facts[reference] == nil && !owned.contains(reference) {
            facts[reference] = Facts(labels: selector, namedPorts: [:])
        }
        var byWorkload: [WorkloadReference: [ResolvedEdge]] = [:]
        for edge in edges {
            if case .workload(let client) = edge.client { byWorkload[client, default: []].append(edge) }
            if case .workload(let server) = edge.server, edge.server != edge.client { byWorkload[server, default: []].append(edge) }
        }
        return Context(facts: facts, selectors: selectors, edges: byWorkload, companions: PolicyCompanions(snapshot: snapshot, webhookService: webhookService),
                       allEdges: edges)
    }

    /// The workloads of the FlowPolicy's namespace its podSelector matches, minus those an
    /// earlier FlowPolicy took (a warning each).
    func subjects(of flowPolicy: FlowPolicy, context: Context, taken: inout [WorkloadReference: String], diagnostics: inout [Diagnostic]) -> [WorkloadReference] {
        var subjects: [WorkloadReference] = []
        for (workload, fact) in context.facts.sorted(by: { $0.key < $1.key })
        where workload.namespace == flowPolicy.namespace && flowPolicy.spec.podSelector.matches(fact.labels) {
            if let owner = taken[workload] {
                diagnostics.append(Diagnostic(.warning, object: Self.reference(flowPolicy), source: flowPolicy.source, field: "spec.podSelector",
                    message: "\(workload) is also selected by FlowPolicy \(owner), which comes first by name and keeps it"))
                continue
            }
            taken[workload] = flowPolicy.name
            subjects.append(workload)
        }
        return subjects
    }

    /// One FlowPolicy's plan (without its denials, which need every plan), and the edges first
    /// seen after its frozen workloads became Stable.
    func plan(_ flowPolicy: FlowPolicy, subjects: [WorkloadReference], context: Context) -> (FlowPolicyPlan, late: [ResolvedEdge]) {
        let spec = flowPolicy.spec
        let start = observationStarts["\(flowPolicy.namespace)/\(flowPolicy.name)"] ?? defaultStart
        let lifecycle = PolicyLifecycle(observationStart: start, windowMilliseconds: Int64(spec.learning.window.milliseconds),
                                        stabilizationMilliseconds: Int64(spec.learning.stabilization.milliseconds))
        let frozen = spec.mode != .observe && !spec.widenOnNewConnections
        let generator = PolicyGenerator(selectors: context.selectors, dnsResolvers: spec.dns.resolvers.compactMap { IPAddress($0) }, allowsDNS: spec.dns.allow)
        let window = "\(Timestamp.format(milliseconds: start))/\(Timestamp.format(milliseconds: start + lifecycle.windowMilliseconds))"
        var states: [FlowPolicyPlan.WorkloadState] = []
        var policies: [Node] = []
        var late: Set<ResolvedEdge> = []
        for subject in subjects {
            let subjectEdges = context.edges[subject] ?? []
            let changes = subjectEdges.map(\.firstSeen)
            let phase = frozen ? lifecycle.frozenPhase(changes: changes, at: now) : lifecycle.phase(changes: changes, at: now)
            var kept = subjectEdges
            if frozen, phase == .stable {
                let cutoff = lifecycle.stableSince(changes: changes)
                kept = subjectEdges.filter { $0.firstSeen <= cutoff }
                late.formUnion(subjectEdges.filter { $0.firstSeen > cutoff })
            }
            let fact = context.facts[subject] ?? Facts(labels: [:], namedPorts: [:])
            let extras = PolicyGenerator.Subject(
                companions: context.companions.rules(for: .init(namespace: subject.namespace, labels: fact.labels)),
                annotations: ["netwatch.dev/flow-policy": flowPolicy.name, "netwatch.dev/phase": phase.rawValue, "netwatch.dev/learning-window": window])
            guard let policy = generator.policies(kept, subjects: [subject: extras]).first else { continue }
            policies.append(policy)
            states.append(.init(workload: subject, phase: phase, policyName: PolicyGenerator.name(for: subject), edges: subjectEdges.count))
        }
        let phase = states.map(\.phase).min() ?? .learning
        var defaultDeny: Node?
        if !states.isEmpty, phase == .stable, spec.defaultDeny.ingress || spec.defaultDeny.egress { defaultDeny = Self.defaultDeny(flowPolicy) }
        let plan = FlowPolicyPlan(
            namespace: flowPolicy.namespace, name: flowPolicy.name, mode: spec.mode, phase: phase, workloads: states,
            policies: policies.sorted { ($0["metadata"]?["name"]?.string ?? "") < ($1["metadata"]?["name"]?.string ?? "") },
            defaultDeny: defaultDeny, deniedWouldBe: [], learningWindow: (start, start + lifecycle.windowMilliseconds))
        return (plan, Array(late))
    }

    /// For each plan, its late edges that the policies in force would deny, across
    /// FlowPolicies (a client's egress and a server's ingress may come from different ones).
    func deniedWouldBe(_ lateEdges: [[ResolvedEdge]], in plans: [FlowPolicyPlan], context: Context) -> [[ResolvedEdge]] {
        let inForce = plans.flatMap { $0.stablePolicies + ($0.defaultDeny.map { [$0] } ?? []) }
        guard !inForce.isEmpty else { return lateEdges.map { _ in [] } }
        let evaluator = PolicyEvaluator(policies: inForce)
        let namespaceLabels = Dictionary(snapshot.namespaces.map { ($0.metadata.name, $0.metadata.labels) }) { a, _ in a }
        func endpoint(_ peer: Peer) -> PolicyEvaluator.Endpoint? {
            switch peer {
            case .workload(let workload):
                let fact = context.facts[workload] ?? Facts(labels: context.selectors[workload] ?? [:], namedPorts: [:])
                return .init(namespace: workload.namespace, labels: fact.labels, namespaceLabels: namespaceLabels[workload.namespace] ?? [:],
                             address: ObservedConnection.Key.unknownAddress, namedPorts: fact.namedPorts)
            case .node(_, let address), .apiServer(let address), .external(let address): return .init(namespace: nil, address: address)
            case .service: return nil
            }
        }
        return lateEdges.map { edges in
            edges.filter { edge in
                guard let client = endpoint(edge.client), let server = endpoint(edge.server) else { return false }
                let port: Int = switch edge.port {
                case .int(let number): number
                case .string(let name): server.namedPorts[name] ?? -1
                }
                return !evaluator.allows(from: client, to: server, port: port, transport: edge.transport)
            }.sorted()
        }
    }

    /// `<flowpolicy>-default-deny`: the FlowPolicy's podSelector, the chosen policy types, no rules.
    static func defaultDeny(_ flowPolicy: FlowPolicy) -> Node {
        var types: [Node] = []
        if flowPolicy.spec.defaultDeny.ingress { types.append("Ingress") }
        if flowPolicy.spec.defaultDeny.egress { types.append("Egress") }
        return [
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": [
                "name": .string(defaultDenyName(flowPolicy.name)),
                "namespace": .string(flowPolicy.namespace),
                "labels": ["app.kubernetes.io/managed-by": "netwatch"],
                "annotations": ["netwatch.dev/flow-policy": .string(flowPolicy.name)],
            ],
            "spec": ["podSelector": selectorNode(flowPolicy.spec.podSelector), "policyTypes": .sequence(types)],
        ]
    }

    public static func defaultDenyName(_ flowPolicy: String) -> String {
        let name = "\(flowPolicy)-default-deny"
        return name.count <= 253 ? name : String(name.prefix(253))
    }

    static func selectorNode(_ selector: LabelSelector) -> Node {
        var mapping = Mapping()
        if !selector.matchLabels.isEmpty { mapping["matchLabels"] = .sortedStringMap(selector.matchLabels) }
        if !selector.matchExpressions.isEmpty {
            mapping["matchExpressions"] = .sequence(selector.matchExpressions.map { requirement in
                var entry = Mapping([("key", .string(requirement.key)), ("operator", .string(requirement.operator.rawValue))])
                if !requirement.values.isEmpty { entry["values"] = .strings(requirement.values) }
                return .mapping(entry)
            })
        }
        return .mapping(mapping)
    }
}
