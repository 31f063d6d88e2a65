import ConfigGen
import DataTree
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import NetWatchAPI
import Operator
import RenderIO
import Synchronization
import Testing
import YAML

/// The operator running the webhook in a cluster: certificates in a Secret, the
/// MutatingWebhookConfiguration with its caBundle, injector status, and the webhook itself
/// answering for the Service's DNS name with namespace labels from the watch.
@Suite("Operator runs the sidecar-injection webhook")
struct OperatorWebhookTests {
    static let service = WebhookConfiguration.Service(name: "netwatch-webhook", namespace: "netwatch-system")

    static func review(namespace: String) -> String {
        #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":""#
            + namespace + #"","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-"},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}"#
    }

    /// The Secret holding `certificates` as the operator (or cert-manager) writes it.
    static func secret(_ certificates: WebhookCertificates, name: String) -> Node {
        var data = Mapping()
        for (key, value) in certificates.secretData { data[key] = .string(Base64.encode(Array(value.utf8))) }
        return ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(name), "namespace": "netwatch-system"], "data": .mapping(data)]
    }

    static func decoded(_ secret: Node, _ key: String) -> String? {
        secret["data"]?[key]?.string.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("renews an aging certificate under the same CA, publishes the caBundle, reports injectors, and serves the Service name with live namespace labels")
    func webhookInCluster() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        // A Secret from an earlier run whose serving certificate is 80 of its 90 days old.
        let aging = try WebhookCertificates.issue(service: Self.service.name, namespace: Self.service.namespace, now: Date().addingTimeInterval(-80 * 86_400))
        let extra: [Node] = [
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "netwatch-system"]],
            Self.secret(aging, name: "netwatch-webhook-tls"),
            ["apiVersion": "netwatch.dev/v1alpha1", "kind": "SidecarInjector", "metadata": ["name": "broken"],
             "spec": ["sidecar": "none", "containers": [["name": "agent"]]]],
        ]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-op-webhook-\(UUID().uuidString)").path
        let port = Mutex(0)
        let settings = NetwatchOperator.WebhookSettings(host: "127.0.0.1", port: 0, service: Self.service, certificateDirectory: directory + "/certs",
                                                        onListening: { bound in port.withLock { $0 = bound } })
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document) + extra, outputDirectory: directory + "/out", webhook: settings)
        let client = harness.client
        let configurations = APIResource(group: "admissionregistration.k8s.io", version: "v1", resource: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration", namespaced: false)
        let injectors = APIResource(group: "netwatch.dev", version: "v1alpha1", resource: "sidecarinjectors", kind: "SidecarInjector", namespaced: false)

        var configuration: Node?
        let published = try await eventually { configuration = try? await client.get(Node.self, configurations, name: "netwatch-sidecar-injector"); return configuration != nil }
        #expect(published)
        let webhooks = configuration?["webhooks"]?.sequence ?? []
        #expect(webhooks.map { $0["name"]?.string } == ["network-exporter.inject.netwatch.dev"], "only the valid injector gets a webhook")
        let secret = try await client.get(Node.self, .secrets, namespace: "netwatch-system", name: "netwatch-webhook-tls")
        #expect(Self.decoded(secret, "ca.crt") == aging.caCertificatePEM, "the CA is kept")
        #expect(Self.decoded(secret, "tls.crt") != aging.certificatePEM, "the aging serving certificate is renewed")
        let bundle = webhooks.first?["clientConfig"]?["caBundle"]?.string.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        #expect(bundle == aging.caCertificatePEM)

        var broken: Node?
        _ = try await eventually { broken = try? await client.get(Node.self, injectors, name: "broken"); return broken?["status"] != nil }
        let condition = broken?["status"]?["conditions"]?.sequence?.first
        #expect(condition?["status"] == "False" && condition?["message"]?.string?.contains("spec.containers[0].image") == true, "\(String(describing: condition))")
        // Each injector's status is its own write, in no set order: wait for this one too.
        var good: Node?
        _ = try await eventually { good = try? await client.get(Node.self, injectors, name: "network-exporter"); return good?["status"] != nil }
        #expect(good?["status"]?["conditions"]?.sequence?.first?["status"] == "True")

        // The webhook answers for the Service's DNS name with the CA from the Secret.
        _ = try await eventually(timeout: .seconds(30)) { port.withLock { $0 } != 0 }
        let ca = directory + "/ca.crt"
        try aging.caCertificatePEM.write(toFile: ca, atomically: true, encoding: .utf8)
        let host = "netwatch-webhook.netwatch-system.svc"
        let bound = port.withLock { $0 }
        func post(_ namespace: String) async throws -> Node? {
            let reply = try await WebhookServerTests.curl(["--cacert", ca, "--resolve", "\(host):\(bound):127.0.0.1", "-X", "POST",
                                                           "-H", "Content-Type: application/json", "--data-binary", Self.review(namespace: namespace), "https://\(host):\(bound)/mutate"])
            return reply.http == 200 ? try YAML.YAMLParser().parse(reply.body, file: "reply").first?.node : nil
        }
        var shop: Node?
        _ = try await eventually { shop = try await post("shop"); return shop?["response"]?["patch"] != nil }
        #expect(shop?["response"]?["patch"] != nil, "a pod in the labelled namespace shop is injected")
        #expect(try await post("payments")?["response"]?["patch"] == nil, "payments is not labelled for injection")
        // A label added to payments reaches the webhook through the watch.
        _ = try await client.patch(Node.self, .namespaces, name: "payments", patch: .merge(["metadata": ["labels": ["netwatch.dev/inject": "enabled"]]]))
        let followed = try await eventually { try await post("payments")?["response"]?["patch"] != nil }
        #expect(followed)
        await harness.stop()
    }

    @Test("certificates from another tool (secret mode): never issued or renewed by netwatch, their CA published; injectors without a failure policy get the configured default")
    func certificatesFromSecret() async throws {
        let loaded = ManifestLoader().load(paths: [repositoryRoot.appendingPathComponent("manifests/samples").path])
        // What cert-manager wrote, 80 of its 90 days old: netwatch would renew its own, not this.
        let external = try WebhookCertificates.issue(service: Self.service.name, namespace: Self.service.namespace, now: Date().addingTimeInterval(-80 * 86_400))
        let secret = Self.secret(external, name: "cert-manager-tls")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("netwatch-op-webhook-secret-\(UUID().uuidString)").path
        let settings = NetwatchOperator.WebhookSettings(host: "127.0.0.1", port: 0, service: Self.service, secretName: "cert-manager-tls",
                                                        certificateDirectory: directory + "/certs", defaultFailurePolicy: .fail, certificates: .secret)
        let plain: Node = ["apiVersion": "netwatch.dev/v1alpha1", "kind": "SidecarInjector", "metadata": ["name": "plain"],
                           "spec": ["namespaceSelector": ["matchLabels": ["team": "payments"]]]]
        let harness = try await OperatorHarness.start(objects: loaded.objects.map(\.document) + [["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "netwatch-system"]], secret, plain],
                                                      outputDirectory: directory + "/out", webhook: settings)
        let configurations = APIResource(group: "admissionregistration.k8s.io", version: "v1", resource: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration", namespaced: false)
        var configuration: Node?
        #expect(try await eventually { configuration = try? await harness.client.get(Node.self, configurations, name: "netwatch-sidecar-injector"); return configuration != nil })
        let webhooks = configuration?["webhooks"]?.sequence ?? []
        let webhook = webhooks.first { $0["name"] == "network-exporter.inject.netwatch.dev" }
        let bundle = webhook?["clientConfig"]?["caBundle"]?.string.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        #expect(bundle == external.caCertificatePEM, "the CA of the Secret another tool wrote")
        #expect(webhook?["failurePolicy"] == "Ignore", "the sample injector sets Ignore itself")
        #expect(webhooks.first { $0["name"] == "plain.inject.netwatch.dev" }?["failurePolicy"] == "Fail", "an injector without one gets the default")
        let stored = try await harness.client.get(Node.self, .secrets, namespace: "netwatch-system", name: "cert-manager-tls")
        #expect(Self.decoded(stored, "tls.crt") == external.certificatePEM, "an aging certificate is left to its owner")
        #expect(harness.server.state.recordedRequests.allSatisfy { !($0.method == "PATCH" && $0.path.hasSuffix("/secrets/cert-manager-tls")) }, "netwatch never wrote the Secret")
        await harness.stop()
    }
}
