import ArgumentParser
import ConfigGen
import NetWatchAPI
import RenderIO
import YAML

struct CRDsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crds", abstract: "Write netwatch's CustomResourceDefinitions, generated from its Swift types.")

    @Option(name: .long, help: "Directory to write the CRDs to.")
    var output = "manifests/crds"

    @Flag(name: .long, help: "Write nothing; exit 1 with a diff when the directory is out of date.")
    var check = false

    func run() throws {
        var artifacts: [Artifact] = []
        for (fileName, document) in CustomResourceDefinitions.all() {
            artifacts.append(Artifact(path: fileName, bytes: try YAMLEmitter().emit(document), role: .kubernetesManifest))
        }
        let directory = OutputDirectory(root: output)
        if check {
            let stale = try StaleCheck(directory: directory).diff(artifacts)
            if !stale.isEmpty {
                print(stale, terminator: "")
                printError("netwatch: \(output) is out of date; run netwatch crds")
                throw ExitCodes.diagnostics
            }
            return
        }
        let changes = try directory.write(artifacts)
        printError("netwatch: \(changes.written.count) CRD(s) written, \(changes.unchanged) unchanged under \(output)")
    }
}
