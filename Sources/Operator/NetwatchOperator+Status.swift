import ConfigGen
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import Logging
import Synchronization

extension NetwatchOperator {
    static let monitoringStacks = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "monitoringstacks", kind: "MonitoringStack", namespaced: true)
    static let networkMonitors = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkmonitors", kind: "NetworkMonitor", namespaced: true)
    static let networkAlerts = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkalerts", kind: "NetworkAlerts", namespaced: true)
    /// The kinds whose problems become Events (and, for netwatch's own, conditions).
    static let reportedKinds: Set<String> = ["NetworkMonitor", "MonitoringStack", "NetworkAlerts", "NetworkDashboard", "FlowPolicy"]
    static let networkDashboards = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "networkdashboards", kind: "NetworkDashboard", namespaced: true)

    /// Writes each stack's status through the status subresource when it changed.
    func reportStatus(_ stacks: [String: Node], result: RenderResult) async throws {
        let now = options.wallClock.timestamp
        for (key, stored) in stacks.sorted(by: { $0.key < $1.key }) {
            guard let namespace = stored["metadata"]?["namespace"]?.string, let name = stored["metadata"]?["name"]?.string else { continue }
            let outcome = reloads.withLock { $0.outcomes[key] }
            let targets = live.withLock { $0?.staticTargetCount(stack: key) }
            try await writeStatus(Self.monitoringStacks, namespace: namespace, name: name, stored: stored) { basis in
                StackStatus.status(namespace: namespace, name: name, stored: basis, result: result, reload: outcome, targets: targets, now: now)
            }
        }
    }

    /// Gives every NetworkMonitor and NetworkAlerts an `Accepted` condition naming its first
    /// problem, and records an Event for each problem of a monitor, alerts object or stack the
    /// first time it is seen.
    func reportMonitors(_ diagnostics: [Diagnostic], artifacts: [Artifact]) async throws {
        let now = options.wallClock.timestamp
        var problems: [ObjectReference: [Diagnostic]] = [:]
        for diagnostic in diagnostics {
            guard let object = diagnostic.object, Self.reportedKinds.contains(object.kind) else { continue }
            problems[ObjectReference(kind: object.kind, namespace: object.namespace ?? "default", name: object.name), default: []].append(diagnostic)
        }
        var objects: [ObjectReference: Node] = [:]
        for reflector in reflectors {
            for (_, node) in await reflector.snapshot().objects {
                guard let kind = node["kind"]?.string, Self.reportedKinds.contains(kind),
                      let name = node["metadata"]?["name"]?.string else { continue }
                objects[ObjectReference(kind: kind, namespace: node["metadata"]?["namespace"]?.string ?? "default", name: name)] = node
            }
        }
        for (reference, node) in objects.sorted(by: { $0.key.description < $1.key.description }) {
            let mine = (problems[reference] ?? []).sorted()
            await events.record(mine, about: node)
            guard let namespace = reference.namespace else { continue }
            switch reference.kind {
            case "NetworkMonitor":
                try await writeStatus(Self.networkMonitors, namespace: namespace, name: reference.name, stored: node) { basis in
                    MonitorStatus.status(stored: basis, problems: mine, now: now)
                }
            case "NetworkAlerts":
                let file = "/prometheus/rules/\(namespace)_\(reference.name).yml"
                let rules = artifacts.first { $0.path.hasSuffix(file) }.map { ContentStatus.ruleCount(in: $0.bytes) } ?? 0
                try await writeStatus(Self.networkAlerts, namespace: namespace, name: reference.name, stored: node) { basis in
                    ContentStatus.status(stored: basis, problems: mine, count: ("rules", rules), now: now)
                }
            case "NetworkDashboard":
                // Rendered once per selecting stack; the count says how many stacks carry it.
                let stacks = artifacts.filter { $0.role == .dashboard && $0.path.hasSuffix("/grafana/\(DashboardGenerator.uid(namespace: namespace, name: reference.name)).json") }.count
                try await writeStatus(Self.networkDashboards, namespace: namespace, name: reference.name, stored: node) { basis in
                    ContentStatus.status(stored: basis, problems: mine, count: ("stacks", stacks), now: now)
                }
            default:
                break
            }
        }
        events.forget(except: Set(objects.values.compactMap { $0["metadata"]?["uid"]?.string }))
    }

    /// Forgets the statuses written for objects that no longer exist (by uid).
    func forgetWrittenStatus(except uids: Set<String>) {
        writtenStatus.withLock { written in
            written = written.filter { key, _ in key.split(separator: "@").last.map { uids.contains(String($0)) } ?? false }
        }
    }

    /// Applies `make(basis)` as the object's status unless it equals what is stored or was last
    /// written. `basis` carries the status last written (transition times are kept from it: the
    /// store may not show our write yet).
    func writeStatus(_ resource: APIResource, namespace: String?, name: String, stored: Node, make: (Node) -> Node) async throws {
        // By uid: an object deleted and created again under the same name is a new object
        // whose status was never written.
        let key = "\(resource.kind):\(namespace ?? "")/\(name)@\(stored["metadata"]?["uid"]?.string ?? "")"
        let written = writtenStatus.withLock { $0[key] }
        var basis = stored
        if let written, case .mapping(var map) = basis {
            map["status"] = written
            basis = .mapping(map)
        }
        let status = make(basis)
        if written == status || stored["status"] == status { return }
        var metadata = Mapping()
        metadata["name"] = .string(name)
        if let namespace { metadata["namespace"] = .string(namespace) }
        let object: Node = ["apiVersion": .string(resource.apiVersion), "kind": .string(resource.kind), "metadata": .mapping(metadata), "status": status]
        do {
            _ = try await client.apply(Discarded.self, resource, namespace: namespace, name: name, object: object, fieldManager: ClusterApplier.fieldManager, force: true, subresource: "status")
            writtenStatus.withLock { $0[key] = status }
        } catch let error as APIError where error.isNotFound {
            return  // deleted meanwhile
        }
    }
}
