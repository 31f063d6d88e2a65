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
