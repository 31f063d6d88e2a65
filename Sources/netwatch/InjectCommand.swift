import ArgumentParser
import ConfigGen
import Foundation
import KubeModel
import NetWatchAPI
import RenderIO

struct InjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inject",
        abstract: "Inject sidecars into Pods and workloads in manifests on disk (what the webhook does, for GitOps).",
        discussion: """
            Rewrites Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and Pods \
            whose namespace and labels a SidecarInjector selects; other documents pass through. \
            SidecarInjectors and Namespaces (for their labels) are read from the inputs and from \
            --injectors. Without --output the result goes to standard output as one multi-document \
            stream; with it, each input file is written under DIR at its path relative to its input. \
            What happened to each object is reported on standard error.
            """
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Files or directories of manifests to inject into.")
    var input: [String]

    @Option(name: .long, parsing: .upToNextOption, help: "More files or directories with SidecarInjectors and Namespaces (not rewritten).")
    var injectors: [String] = []

    @Option(name: .long, help: "Write the injected files under this directory instead of to standard output.")
    var output: String?

    @Option(name: .customLong("kubernetes-version"), help: "The target cluster's version; from 1.29 sidecars are native (init containers with restartPolicy Always).")
    var kubernetesVersion: String = "1.29"

    @Option(name: .customLong("operator-namespace"), help: "netwatch's own namespace, never injected.")
    var operatorNamespace: String = "netwatch-system"

    func run() throws {
        guard let capabilities = SidecarInjection.Capabilities(kubernetesVersion: kubernetesVersion) else {
            printError("error: --kubernetes-version \(kubernetesVersion): expected MAJOR.MINOR, e.g. 1.30")
            throw ExitCodes.unusableInput
        }
        let result = ManifestInjection(capabilities: capabilities, operatorNamespace: operatorNamespace).run(inputs: input, injectorPaths: injectors)
        for diagnostic in result.diagnostics.sorted() { printError(diagnostic.description) }
        if !result.fileErrors.isEmpty {
            for error in result.fileErrors { printError("error: \(error)") }
            printError("netwatch: \(result.fileErrors.count) input file(s) could not be read; nothing was written")
            throw ExitCodes.unusableInput
        }
        if result.diagnostics.contains(where: { $0.severity == .error }) && result.files.isEmpty { throw ExitCodes.diagnostics }
        for line in result.report { printError(line) }
        if let output {
            for file in result.files {
                let target = output + "/" + relativePath(file.path)
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data(file.bytes).write(to: URL(fileURLWithPath: target), options: .atomic)
            }
            printError("netwatch: \(result.files.count) file(s) written under \(output)")
        } else {
            var out: [UInt8] = []
            for (index, file) in result.files.enumerated() {
                if index > 0 { out += Array("---\n".utf8) }
                out += file.bytes
            }
            FileHandle.standardOutput.write(Data(out))
        }
        if result.diagnostics.contains(where: { $0.severity == .error }) { throw ExitCodes.diagnostics }
    }

    /// The file's path relative to the input it was found under (its name for a file input).
    func relativePath(_ path: String) -> String {
        for root in input {
            let prefix = root.hasSuffix("/") ? root : root + "/"
            if path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
        }
        return (path as NSString).lastPathComponent
    }
}
