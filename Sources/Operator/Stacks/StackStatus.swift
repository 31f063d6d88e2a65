import ConfigGen
import DataTree
import KubeModel

/// The status netwatch reports on a MonitoringStack: `observedGeneration`, `configHash` (of
/// the stack's Prometheus configuration, not its file_sd targets, so pod churn does not change
/// it), `targets` (static discovery), the last reload's time and result, and the conditions
/// `ConfigValid`, `Ready` and `Reloaded`.
///
/// Pure: built from the render result and the stack as stored; condition transition times are
/// kept from the stored status unless the condition's status changes, so an unchanged stack
/// produces an identical status (and no write).
enum StackStatus {
    /// The files of a stack's Prometheus directory (`<namespace>/<stack>/prometheus/`).
    static let prometheusFileRoles: Set<Artifact.Role> = [.prometheusConfig, .fileSD, .ruleFile, .credential, .credentialList]

    static func status(
        stack: ObjectReference, stored: Node, result: RenderResult, reload: ReloadClient.Outcome?, targets: Int?, now: String
    ) -> Node {
        let files = result.artifacts.filter { $0.owner == stack && prometheusFileRoles.contains($0.role) }.sorted { $0.path < $1.path }
        var hash = FNV1a64()
        for file in files where file.role == .prometheusConfig {
            hash.add(Array(file.path.utf8))
            hash.add(file.bytes)
        }
        let problems = result.diagnostics.filter { $0.severity == .error && $0.object == stack }
        let valid = problems.isEmpty
        let message = problems.first.map { "\($0.field.map { "\($0): " } ?? "")\($0.message)" } ?? "the configuration rendered without errors"
        let previous = stored["status"]?["conditions"]?.sequence ?? []
        func condition(_ type: String, _ ok: Bool, _ reason: String, _ message: String) -> Node {
            Condition.make(type, ok, reason: reason, message: message, previous: previous, now: now)
        }
        var status = Mapping()
        if let generation = stored["metadata"]?["generation"] { status["observedGeneration"] = generation }
        status["configHash"] = .string(hash.hex)
        if let targets { status["targets"] = .int(targets) }
        if let reload {
            status["lastReload"] = ["time": .string(reload.time), "result": .string(reload.succeeded ? "Succeeded" : "Failed")]
        }
        var conditions: [Node] = [
            condition("ConfigValid", valid, valid ? "Rendered" : "InvalidSpec", message),
            condition("Ready", valid && !files.isEmpty && reload?.succeeded != false, valid ? (reload?.succeeded == false ? "ReloadFailed" : "OutputWritten") : "InvalidSpec", valid ? "\(files.count) Prometheus file(s) written" : "\(message); the last valid configuration stays in place"),
        ]
        if let reload {
            conditions.append(condition("Reloaded", reload.succeeded, reload.succeeded ? "ReloadSucceeded" : "ReloadFailed", reload.message))
        }
        status["conditions"] = .sequence(conditions)
        return .mapping(status)
    }
}
