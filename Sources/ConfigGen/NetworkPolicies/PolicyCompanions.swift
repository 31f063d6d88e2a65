import DataTree
import Flows
import KubeModel
import NetWatchAPI

/// The ingress netwatch's own artifacts need, whatever a learning window happened to observe,
/// so that policies learned from flows never block what netwatch itself set up:
///
/// - each MonitoringStack's Prometheus (its `prometheus.podSelector` pods in the stack's
///   namespace) to every port a job of that stack scrapes on the workload's pods (pod jobs by
///   their port; ServiceMonitor jobs through the selecting Service's targetPort);
/// - the same Prometheus to the injected exporter's port (`nw-exporter`) on workloads a
///   SidecarInjector with the built-in exporter selects;
/// - the API server to the admission webhook's port, on the workloads behind the webhook
///   Service: from any address, because API server addresses are not pod addresses and
///   differ by cluster (managed control planes); the webhook authenticates with TLS.
struct PolicyCompanions {
    /// A workload as companions see it: where it runs and its pods' labels and named ports.
    struct Subject {
        var namespace: String
        var labels: [String: String]
    }

    let plans: [StackPlan]
    let namespaceLabels: [String: [String: String]]
    let services: [Service]
    let injectors: [SidecarInjector]
    /// The webhook Service, `namespace/name`.
    let webhookService: (namespace: String, name: String)?

    init(snapshot: Snapshot, webhookService: (namespace: String, name: String)?) {
        let planner = ScrapePlanner(snapshot: snapshot)
        plans = snapshot.monitoringStacks.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }.map {
            planner.plan($0, monitors: snapshot.networkMonitors, podMonitors: snapshot.podMonitors, serviceMonitors: snapshot.serviceMonitors)
        }
        namespaceLabels = planner.namespaceLabels
        services = snapshot.services
        injectors = snapshot.sidecarInjectors
        self.webhookService = webhookService
    }

    /// The ingress rules for one workload, in a fixed order.
    func rules(for subject: Subject) -> [Node] {
        var rules: [Node] = []
        for plan in plans {
            var ports: [IntOrString] = []
            // A job without a port scrapes every port, so its Prometheus may reach any of them.
            var allPorts = false
            for job in plan.jobs {
                switch job.targets {
                case .pods(let targets):
                    // Probed pods are reached by the blackbox_exporter, not by Prometheus.
                    if targets.probe == nil, targets.namespaces.contains(subject.namespace), targets.selector.matches(subject.labels) {
                        if let port = targets.port { ports.append(port) } else { allPorts = true }
                    }
                case .services(let targets):
                    guard targets.namespaces.contains(subject.namespace) else { continue }
                    for service in selectingServices(subject) where targets.selector.matches(service.metadata.labels) {
                        switch targets.port {
                        case .targetPort(let port): ports.append(port)
                        case .allPorts: allPorts = true
                        case .servicePort(let name):
                            if let port = service.spec.ports?.first(where: { $0.name == name }) { ports.append(port.targetPort ?? .int(port.port)) }
                        }
                    }
                case .staticGroups, .probe, .ingresses, .nodes: continue  // outside hosts or pods, or reached through the prober
                }
            }
            if exporterInjected(subject) { ports.append(.string(NetworkExporterSidecar.portName)) }
            guard !ports.isEmpty || allPorts else { continue }
            let prometheus = plan.stack.spec.prometheus.podSelector
            let from: Node = [[
                "namespaceSelector": ["matchLabels": ["kubernetes.io/metadata.name": .string(plan.stack.namespace)]],
                "podSelector": ["matchLabels": .sortedStringMap(prometheus)],
            ]]
            var rule = Mapping()
            rule["from"] = from
            if !allPorts { rule["ports"] = .sequence(Self.unique(ports).map { ["port": $0.node, "protocol": "TCP"] }) }
            rules.append(.mapping(rule))
        }
        if let webhookService, webhookService.namespace == subject.namespace,
           let service = services.first(where: { ($0.metadata.namespace ?? "default") == webhookService.namespace && $0.metadata.name == webhookService.name }),
           let selector = service.spec.selector, !selector.isEmpty, selector.allSatisfy({ subject.labels[$0.key] == $0.value }) {
            let ports = (service.spec.ports ?? []).map { $0.targetPort ?? .int($0.port) }
            if !ports.isEmpty {
                rules.append([
                    "from": [["ipBlock": ["cidr": "0.0.0.0/0"]], ["ipBlock": ["cidr": "::/0"]]],
                    "ports": .sequence(Self.unique(ports).map { ["port": $0.node, "protocol": "TCP"] }),
                ])
            }
        }
        return rules
    }

    func selectingServices(_ subject: Subject) -> [Service] {
        services.filter { service in
            (service.metadata.namespace ?? "default") == subject.namespace
                && (service.spec.selector.map { !$0.isEmpty && $0.allSatisfy { subject.labels[$0.key] == $0.value } } ?? false)
        }
    }

    func exporterInjected(_ subject: Subject) -> Bool {
        guard !SidecarInjection.protectedNamespaces.contains(subject.namespace) else { return false }
        let labels = namespaceLabels[subject.namespace] ?? [:]
        return injectors.sorted { $0.name < $1.name }.first { injector in
            (injector.spec.namespaceSelector?.matches(labels) ?? false) && (injector.spec.podSelector?.matches(subject.labels) ?? true)
        }?.spec.sidecar == .networkExporter
    }

    static func unique(_ ports: [IntOrString]) -> [IntOrString] {
        var seen: Set<String> = []
        return ports.filter { seen.insert($0.sortKey).inserted }.sorted { $0.sortKey < $1.sortKey }
    }
}
