import ConfigGen
import Foundation
import KubeModel
import NetWatchAPI
import RenderIO
import Testing

/// Golden files: every artifact of rendering each example set, byte for byte, and its
/// diagnostics (`diagnostics.txt`). `make test` also runs promtool over every golden
/// prometheus.yml. Rewrite with `make golden` (UPDATE_GOLDEN=1) after an intended change, and
/// review the diff.
@Suite("Golden output of the example clusters")
struct GoldenTests {
    static let sets = [
        "samples": "manifests/samples",
        "prometheus-operator": "manifests/examples/prometheus-operator",
        "flowpolicy": "manifests/examples/flowpolicy",
        "secure-scrapes": "manifests/examples/secure-scrapes",
    ]
    static let diagnosticsFile = "diagnostics.txt"

    @Test("rendering each example set matches its golden files", arguments: sets.keys.sorted())
    func matchesGolden(set: String) throws {
        let goldenRoot = repositoryRoot.appendingPathComponent("Tests/ConfigGenTests/Golden/\(set)")
        let (result, problems) = renderManifests(Self.sets[set]!)
        // Paths relative to the repository, so the golden text does not depend on the checkout.
        let diagnostics = (problems + result.diagnostics).map { "\($0)\n".replacingOccurrences(of: repositoryRoot.path + "/", with: "") }.joined()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: goldenRoot)
            _ = try OutputDirectory(root: goldenRoot.path).write(result.artifacts)
            try? FileManager.default.removeItem(at: goldenRoot.appendingPathComponent(OutputDirectory.manifestName))
            if !diagnostics.isEmpty { try diagnostics.write(to: goldenRoot.appendingPathComponent(Self.diagnosticsFile), atomically: true, encoding: .utf8) }
            return
        }
        let expectedDiagnostics = (try? String(contentsOf: goldenRoot.appendingPathComponent(Self.diagnosticsFile), encoding: .utf8)) ?? ""
        #expect(diagnostics == expectedDiagnostics, "diagnostics differ from \(Self.diagnosticsFile); run `make golden` after an intended change")
        let expectedPaths = (FileManager.default.enumerator(atPath: goldenRoot.path)?.allObjects as? [String] ?? [])
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix("/") && $0 != Self.diagnosticsFile }
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
