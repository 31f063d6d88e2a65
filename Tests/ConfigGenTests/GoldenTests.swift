import ConfigGen
import Foundation
import KubeModel
import NetWatchAPI
import RenderIO
import Testing

/// Golden files: every artifact of rendering manifests/samples, byte for byte. `make test`
/// also runs promtool over every golden prometheus.yml. Rewrite with `make golden`
/// (UPDATE_GOLDEN=1) after an intended change, and review the diff.
@Suite("Golden output of the sample cluster")
struct GoldenTests {
    let goldenRoot = repositoryRoot.appendingPathComponent("Tests/ConfigGenTests/Golden/samples")

    @Test("rendering manifests/samples matches the golden files")
    func samplesMatchGolden() throws {
        let (result, problems) = renderManifests("manifests/samples")
        #expect(problems.isEmpty, "\(problems)")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: goldenRoot)
            _ = try OutputDirectory(root: goldenRoot.path).write(result.artifacts)
            try? FileManager.default.removeItem(at: goldenRoot.appendingPathComponent(OutputDirectory.manifestName))
            return
        }
        let expectedPaths = (FileManager.default.enumerator(atPath: goldenRoot.path)?.allObjects as? [String] ?? [])
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix("/") }
            .filter { path in
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: goldenRoot.appendingPathComponent(path).path, isDirectory: &isDirectory)
                return exists && !isDirectory.boolValue
            }
            .sorted()
        #expect(result.artifacts.map(\.path) == expectedPaths, "run `make golden` after an intended change")
        for artifact in result.artifacts {
            let golden = FileManager.default.contents(atPath: goldenRoot.appendingPathComponent(artifact.path).path).map { [UInt8]($0) }
            #expect(golden == artifact.bytes, "\(artifact.path) differs from its golden file; run `make golden` after an intended change")
        }
    }
}
