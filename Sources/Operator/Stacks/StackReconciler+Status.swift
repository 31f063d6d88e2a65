import ConfigGen
import DataTree
import KubeModel
import KubeRuntime
import NetWatchAPI
import Synchronization

extension StackReconciler {
    /// The kinds whose problems become Events (and, for netwatch's own, conditions).
    static let reportedKinds: Set<String> = ["NetworkMonitor", "MonitoringStack", "NetworkAlerts", "NetworkDashboard", "FlowPolicy", "NetworkProbe"]

    /// Writes each stack's status when it changed.
    func reportStatus(_ stacks: [ObjectReference: Node], result: RenderResult) async throws {
        let now = context.options.wallClock.timestamp
        for (stack, stored) in stacks.sorted(by: { $0.key < $1.key }) {
            let outcome = reloads.outcome(of: stack)
            let targets = live.withLock { $0?.staticTargetCount(stack: stack) }
            try await context.status.write(NetWatchKind.monitoringStack.resource, stack, stored: stored) { basis in
                StackStatus.status(stack: stack, stored: basis, result: result, reload: outcome, targets: targets, now: now)
            }
        }
    }

    /// Gives every NetworkMonitor, NetworkAlerts and NetworkDashboard an `Accepted` condition
    /// naming its first problem, and records an Event for each problem of a reported kind the
    /// first time it is seen.
    func reportObjects(_ diagnostics: [Diagnostic], artifacts: [Artifact]) async throws {
        let now = context.options.wallClock.timestamp
        var problems: [ObjectReference: [Diagnostic]] = [:]
        for diagnostic in diagnostics {
            guard let object = diagnostic.object, Self.reportedKinds.contains(object.kind) else { continue }
            problems[ObjectReference(kind: object.kind, namespace: object.namespace ?? "default", name: object.name), default: []].append(diagnostic)
        }
        var objects: [ObjectReference: Node] = [:]
        for kind in NetWatchKind.allCases where Self.reportedKinds.contains(kind.rawValue) {
            objects.merge(await context.cache.objects(of: kind.resource)) { first, _ in first }
        }
        for (reference, node) in objects.sorted(by: { $0.key < $1.key }) {
            let mine = (problems[reference] ?? []).sorted()
            await context.events.record(mine, about: node)
            guard let namespace = reference.namespace else { continue }
            switch reference.kind {
            case NetWatchKind.networkMonitor.rawValue:
                try await context.status.write(NetWatchKind.networkMonitor.resource, reference, stored: node) { basis in
                    MonitorStatus.status(stored: basis, problems: mine, now: now)
                }
            case NetWatchKind.networkAlerts.rawValue:
                let file = "/prometheus/rules/\(namespace)_\(reference.name).yml"
                let rules = artifacts.first { $0.role == .ruleFile && $0.path.hasSuffix(file) }.map { ContentStatus.ruleCount(in: $0.bytes) } ?? 0
                try await context.status.write(NetWatchKind.networkAlerts.resource, reference, stored: node) { basis in
                    ContentStatus.status(stored: basis, problems: mine, count: ("rules", rules), now: now)
                }
            case NetWatchKind.networkDashboard.rawValue:
                // Rendered once per selecting stack; the count says how many stacks carry it.
                let file = "/grafana/\(DashboardGenerator.uid(namespace: namespace, name: reference.name)).json"
                let stacks = artifacts.filter { $0.role == .dashboard && $0.path.hasSuffix(file) }.count
                try await context.status.write(NetWatchKind.networkDashboard.resource, reference, stored: node) { basis in
                    ContentStatus.status(stored: basis, problems: mine, count: ("stacks", stacks), now: now)
                }
            case NetWatchKind.networkProbe.rawValue:
                let targets = live.withLock { $0?.probeTargetCount(reference) } ?? 0
                try await context.status.write(NetWatchKind.networkProbe.resource, reference, stored: node) { basis in
                    ContentStatus.status(stored: basis, problems: mine, count: ("targets", targets), now: now)
                }
            default:
                break
            }
        }
        context.events.forget(except: Set(objects.values.compactMap { $0["metadata"]?["uid"]?.string }))
    }
}
