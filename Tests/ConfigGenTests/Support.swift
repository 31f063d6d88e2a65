import ConfigGen
import Foundation
import KubeModel
import RenderIO

/// The repository root, from this file's location.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Loads and renders manifests the way `netwatch render` does.
func renderManifests(_ path: String) -> (RenderResult, [Diagnostic]) {
    let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent(path).path])
    precondition(loaded.fileErrors.isEmpty, "\(loaded.fileErrors)")
    let (snapshot, problems) = loaded.snapshot()
    return (render(snapshot), loaded.diagnostics + problems)
}

func text(_ artifact: Artifact?) -> String {
    artifact.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
}

/// Runs `promtool test rules <file>` in `directory` (Prometheus's own PromQL and alerting unit
/// tests); its exit status and combined output.
func promtoolTestRules(_ file: String, in directory: URL) throws -> (status: Int32, output: String) {
    let promtool = Process()
    promtool.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
    promtool.arguments = ["test", "rules", file]
    promtool.currentDirectoryURL = directory
    let pipe = Pipe()
    promtool.standardOutput = pipe
    promtool.standardError = pipe
    try promtool.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    promtool.waitUntilExit()
    return (promtool.terminationStatus, output)
}
