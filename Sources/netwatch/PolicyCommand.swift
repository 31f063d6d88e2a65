import ArgumentParser
import ConfigGen
import Flows
import Foundation
import KubeModel
import RenderIO

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check NetworkPolicies against observed traffic.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Report every observed connection the NetworkPolicies in the manifests would deny.",
            discussion: """
                A gate for any NetworkPolicy change, learned or hand-written, independent of the CNI. \
                --flows reads recorded traffic: `netwatch flows collect` output (.jsonl) and Hubble \
                exports (`hubble observe -o json`). --manifests reads the policies to judge and what \
                they select: Namespaces (labels), workloads and Pods (labels, named ports), Services \
                (a connection to a cluster IP is judged on each backend's target port). Each \
                connection is judged both ways — the server's ingress and the client's egress — \
                with Kubernetes' NetworkPolicy semantics, and every denial names the policies in \
                force on both ends.

                --allow-list FILE accepts known denials, one per line: CLIENT -> SERVER [PORT[/PROTOCOL]], \
                ends as NAMESPACE/NAME, NAMESPACE/KIND/NAME (with * wildcards), world, node, \
                apiserver, an address or a CIDR; # starts a comment. Entries that accept nothing \
                are reported so the list does not rot.

                Exit codes: 0 nothing would be denied; 1 some observed connection would be denied; \
                2 unusable input (unreadable files, a bad allow list, no flows).
                """
        )

        @Option(name: .long, parsing: .upToNextOption, help: "Flow files or directories (.jsonl from `netwatch flows collect`, Hubble JSON).")
        var flows: [String]

        @Option(name: .long, parsing: .upToNextOption, help: "Manifest files or directories: the NetworkPolicies and the objects they select.")
        var manifests: [String]

        @Option(name: .customLong("allow-list"), help: "Denials to accept (see above).")
        var allowList: String?

        @Option(help: "text, json, or github (GitHub Actions annotations on the policies' lines).")
        var format: String = "text"

        func run() throws {
            guard ["text", "json", "github"].contains(format) else {
                printError("error: --format must be text, json or github")
                throw ExitCodes.unusableInput
            }
            var allow = PolicyAllowList()
            if let allowList {
                guard let text = try? String(contentsOfFile: allowList, encoding: .utf8) else {
                    printError("error: \(allowList): cannot be read; check that it exists and is readable")
                    throw ExitCodes.unusableInput
                }
                let (parsed, problems) = PolicyAllowList.parse(text)
                for problem in problems { printError("\(allowList):\(problem): the allow list is not used until it is fixed") }
                if !problems.isEmpty { throw ExitCodes.unusableInput }
                allow = parsed
            }
            // One load, so a file given both ways (a directory holding manifests and flows) counts once.
            let input = ManifestLoader().load(paths: flows + manifests)
            if !input.fileErrors.isEmpty {
                for error in input.fileErrors { printError("error: \(error)") }
                throw ExitCodes.unusableInput
            }
            let connections = input.connections
            guard !connections.isEmpty else {
                for diagnostic in input.diagnostics.sorted() { printError(diagnostic.description) }
                printError("error: no observed connections in \(flows.joined(separator: " ")); record some with `netwatch flows collect` or `hubble observe -o json`")
                throw ExitCodes.unusableInput
            }
            let (snapshot, problems) = input.snapshot()
            for diagnostic in (input.diagnostics + problems).sorted() { printError(diagnostic.description) }
            let policyObjects = input.objects.filter { $0.type.group == "networking.k8s.io" && $0.type.kind == "NetworkPolicy" }
            let resolver = IdentityResolver(pods: snapshot.pods, workloads: snapshot.workloads, services: snapshot.services)
            let evaluator = PolicyEvaluator(policies: policyObjects.map(\.document))
            let endpoints = WorkloadEndpoints(pods: snapshot.pods, workloads: snapshot.workloads, namespaces: snapshot.namespaces,
                                              resolver: resolver, connections: connections)
            let report = PolicyCheck(evaluator: evaluator, resolver: resolver, pods: snapshot.pods, services: snapshot.services,
                                     endpoints: endpoints, allowList: allow).run(connections)
            let output = PolicyCheckFormat(report: report, evaluator: evaluator, sources: policyObjects.map(\.source), allowListFile: allowList)
            switch format {
            case "json": FileHandle.standardOutput.write(Data(output.json))
            case "github": print(output.githubAnnotations, terminator: "")
            default: print(output.text, terminator: "")
            }
            if format != "text" { printError("netwatch policy check: \(output.summary)") }
            if !report.denied.isEmpty { throw ExitCodes.diagnostics }
        }
    }
}
