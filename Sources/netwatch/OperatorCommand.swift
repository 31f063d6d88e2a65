import ArgumentParser
import ConfigGen
import CurlTransport
import Foundation
import KubeClient
import Logging
import NetWatchAPI
import Operator

struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Watch the cluster and keep the rendered configuration in step with it.",
        discussion: """
            Uses --kubeconfig (or $KUBECONFIG, or the in-cluster service account). Applies the \
            ConfigMaps and Secrets `netwatch render` would write, with server-side apply, owned by \
            their MonitoringStack; with --output-dir writes the same files as `netwatch render` \
            there instead. Writes only what changed. \
            With --webhook-listen it also serves the sidecar-injection webhook: it keeps a CA and a \
            serving certificate for the webhook Service in a Secret (renewed at two thirds of its \
            lifetime), the MutatingWebhookConfiguration with its caBundle, and SidecarInjector status. \
            Stops cleanly on SIGTERM or SIGINT (and releases its lease).
            """
    )

    @Option(help: "kubeconfig file (default: $KUBECONFIG, the in-cluster service account, ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context (default: current-context).")
    var context: String?

    @Option(name: .customLong("output-dir"), help: "Write the output to this directory (for a Prometheus outside the cluster) instead of applying ConfigMaps and Secrets to the cluster.")
    var outputDirectory: String?

    @Option(name: .customLong("leader-election-namespace"), help: "Elect a leader on a Lease in this namespace (run several replicas).")
    var leaseNamespace: String?

    @Option(name: .customLong("health-address"), help: "Serve /healthz, /readyz and /metrics on HOST:PORT (\"off\" to disable).")
    var healthAddress: String = "0.0.0.0:8080"

    @Option(help: "Identity in leader election (default: the host name).")
    var identity: String = ProcessInfo.processInfo.hostName

    @Option(name: .customLong("log-format"), help: "json (one object per line, for log pipelines) or text.")
    var logFormat: String = "json"

    @Option(name: .customLong("webhook-listen"), help: "Serve the sidecar-injection webhook (HTTPS) on HOST:PORT (\"off\" to disable).")
    var webhookListen: String = "off"

    @Option(name: .customLong("webhook-service"), help: "The Service in front of the webhook, NAMESPACE/NAME (its DNS names go into the certificate).")
    var webhookService: String = "netwatch-system/netwatch-webhook"

    @Option(name: .customLong("webhook-secret"), help: "The Secret (in the Service's namespace) that holds the webhook's CA and certificate.")
    var webhookSecret: String = "netwatch-webhook-tls"

    @Option(name: .customLong("webhook-configuration"), help: "The MutatingWebhookConfiguration netwatch keeps.")
    var webhookConfiguration: String = "netwatch-sidecar-injector"

    @Option(name: .customLong("webhook-cert-dir"), help: "Where the serving certificate is written for the webhook server.")
    var webhookCertificateDirectory: String = NSTemporaryDirectory() + "netwatch-webhook"

    @Option(name: .customLong("kubernetes-version"), help: "The cluster's version for injection; from 1.29 sidecars are native.")
    var kubernetesVersion: String = "1.29"

    @Option(name: .customLong("webhook-failure-policy"), help: "Failure policy of SidecarInjectors that set none: Ignore or Fail.")
    var webhookFailurePolicy: String = "Ignore"

    @Option(name: .customLong("webhook-certificates"), help: "operator: netwatch issues and renews the webhook's CA and certificate; secret: another tool (cert-manager) writes the Secret and netwatch only reads it.")
    var webhookCertificates: String = "operator"

    @Option(name: .customLong("flow-listen-host"), help: "The address FlowPolicies' IPFIX/NetFlow collectors listen on (their ports come from the FlowPolicies).")
    var flowListenHost: String = "0.0.0.0"

    @Option(name: .customLong("flow-interval"), help: "How often FlowPolicies' sources are read and their policies planned (Prometheus duration).")
    var flowInterval: String = "10s"

    @Option(name: .customLong("credentials-interval"), help: "How often the Secrets and ConfigMaps scrape endpoints reference are read again; a change re-renders and reloads (Prometheus duration).")
    var credentialsInterval: String = "30s"

    func run() async throws {
        try bootstrapLogging(logFormat)
        var logger = Logger(label: "netwatch")
        logger.logLevel = .info
        let configuration: KubeConfiguration
        do {
            configuration = try KubeConfiguration.load(kubeconfig: kubeconfig, context: context)
        } catch {
            printError("\(error)")
            throw ExitCodes.unusableInput
        }
        logger.info("starting", metadata: ["kube.server": "\(configuration.server)", "kube.origin": "\(configuration.origin)", "output.directory": "\(outputDirectory ?? "(apply to the cluster)")"])
        let health = try parseListenAddress(healthAddress, option: "--health-address")
        let client = try KubeClient(configuration: configuration, logger: logger)
        var webhook: NetwatchOperator.WebhookSettings?
        if let listen = try parseListenAddress(webhookListen, option: "--webhook-listen") {
            let parts = webhookService.split(separator: "/")
            guard parts.count == 2, let capabilities = SidecarInjection.Capabilities(kubernetesVersion: kubernetesVersion) else {
                printError("error: --webhook-service must be NAMESPACE/NAME and --kubernetes-version MAJOR.MINOR")
                throw ExitCodes.unusableInput
            }
            guard let failurePolicy = SidecarInjectorSpec.FailurePolicy(rawValue: webhookFailurePolicy),
                  let certificates = NetwatchOperator.WebhookSettings.CertificateMode(rawValue: webhookCertificates) else {
                printError("error: --webhook-failure-policy must be Ignore or Fail, --webhook-certificates operator or secret")
                throw ExitCodes.unusableInput
            }
            webhook = .init(host: listen.host, port: listen.port, service: .init(name: String(parts[1]), namespace: String(parts[0])),
                            secretName: webhookSecret, configurationName: webhookConfiguration, certificateDirectory: webhookCertificateDirectory,
                            capabilities: capabilities, defaultFailurePolicy: failurePolicy, certificates: certificates)
        }
        let interval = Duration.milliseconds(try parseDurationOption(flowInterval, option: "--flow-interval").milliseconds)
        var options = NetwatchOperator.Options(outputDirectory: outputDirectory, leaseNamespace: leaseNamespace, identity: identity, healthAddress: health,
                                               webhook: webhook, flowListenHost: flowListenHost, flowInterval: max(interval, .milliseconds(100)))
        options.credentialsInterval = max(.milliseconds(try parseDurationOption(credentialsInterval, option: "--credentials-interval").milliseconds), .seconds(1))
        let netwatch = NetwatchOperator(client: client, options: options, logger: logger, transport: try CurlTransport(logger: logger))
        try await runUntilSignalled(netwatch, logger: logger)
    }
}
