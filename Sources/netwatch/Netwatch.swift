import ArgumentParser

/// `netwatch`: network observability as configuration.
@main
struct Netwatch: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "netwatch",
        abstract: "Render Prometheus scrape configuration from Kubernetes manifests and netwatch resources.",
        discussion: """
            Exit codes: 0 clean; 1 diagnostics with errors, or stale output with --check; 2 unusable input \
            (unreadable or malformed files, nothing is written).
            """,
        version: version,
        subcommands: [RenderCommand.self, ValidateCommand.self, CRDsCommand.self, DashboardsCommand.self, FlowsCommand.self, PolicyCommand.self, InjectCommand.self, OperatorCommand.self, ReloaderCommand.self, WebhookCommand.self, VersionCommand.self]
    )
}

/// Exit codes, as documented in the command's help and the README.
enum ExitCodes {
    static let diagnostics = ExitCode(1)
    static let unusableInput = ExitCode(2)
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print netwatch's version.")

    func run() {
        print("netwatch \(Netwatch.version)")
    }
}
