import ArgumentParser
import ConfigGen
import Foundation
import KubeModel
import RenderIO

/// Reads manifests, reports diagnostics and returns the render result, or exits 2 when input
/// files are unusable.
func loadAndRender(_ inputs: [String]) throws -> RenderResult {
    let loaded = ManifestLoader().load(paths: inputs)
    if !loaded.fileErrors.isEmpty {
        for error in loaded.fileErrors { printError("error: \(error)") }
        printError("netwatch: \(loaded.fileErrors.count) input file(s) could not be read; nothing was written")
        throw ExitCodes.unusableInput
    }
    let (snapshot, decodeProblems) = loaded.snapshot()
    var result = render(snapshot)
    result.diagnostics = (loaded.diagnostics + decodeProblems + result.diagnostics).sorted()
    for diagnostic in result.diagnostics { printError(diagnostic.description) }
    return result
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render configuration from manifests on disk into an output directory (GitOps).",
        discussion: "Reads every .yaml, .yml and .json file under the inputs (multi-document files and List kinds included), and .jsonl flow files (netwatch flows collect), from which it proposes NetworkPolicies under OUT/networkpolicies/<namespace>/."
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Files or directories of manifests.")
    var input: [String]

    @Option(name: .long, help: "Output directory; netwatch owns the files it writes there.")
    var output: String

    @Flag(name: .long, help: "Write nothing; exit 1 with a unified diff when the output directory is stale.")
    var check = false

    func run() throws {
        let result = try loadAndRender(input)
        let directory = OutputDirectory(root: output)
        if check {
            let stale = try StaleCheck(directory: directory).diff(result.artifacts)
            if !stale.isEmpty {
                print(stale, terminator: "")
                printError("netwatch: \(output) is stale; run netwatch render to update it")
                throw ExitCodes.diagnostics
            }
        } else {
            let changes: OutputDirectory.Changes
            do {
                changes = try directory.write(result.artifacts)
            } catch let error as OutputError {
                printError("error: \(error.message)")
                throw ExitCodes.unusableInput
            }
            for warning in changes.warnings { printError("warning: \(output)/\(warning)") }
            printError("netwatch: \(changes.written.count) written, \(changes.unchanged) unchanged, \(changes.removed.count) removed under \(output)")
        }
        if result.hasErrors { throw ExitCodes.diagnostics }
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check manifests and print every diagnostic; writes nothing.")

    @Option(name: .long, parsing: .upToNextOption, help: "Files or directories of manifests.")
    var input: [String]

    func run() throws {
        let result = try loadAndRender(input)
        let errors = result.diagnostics.filter { $0.severity == .error }.count
        printError("netwatch: \(errors) error(s), \(result.diagnostics.count - errors) warning(s)")
        if errors > 0 { throw ExitCodes.diagnostics }
    }
}
