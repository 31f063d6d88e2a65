public import DataTree
import KubeModel
public import NetWatchAPI

/// The `MutatingWebhookConfiguration` (admissionregistration.k8s.io/v1) that sends pod
/// creations to netwatch's webhook: one webhook entry per SidecarInjector, so each carries its
/// own namespace selector and failure policy.
///
/// Guarantees: the API server calls the webhook only for pod CREATEs in the namespaces an
/// injector selects, never in kube-system, kube-public, kube-node-lease or netwatch's own
/// namespace (a `kubernetes.io/metadata.name NotIn` term on every entry, so a webhook outage
/// cannot block the control plane or netwatch itself); `timeoutSeconds` 5; `sideEffects: None`;
/// `reinvocationPolicy: IfNeeded` (injection is idempotent); entries in injector name order.
public enum WebhookConfiguration {
    public struct Service: Sendable, Hashable {
        public var name: String
        public var namespace: String
        public var port: Int
        public var path: String

        public init(name: String, namespace: String, port: Int = 443, path: String = "/mutate") {
            self.name = name
            self.namespace = namespace
            self.port = port
            self.path = path
        }
    }

    public static let timeoutSeconds = 5

    /// The configuration named `name`; `caBundle` is the PEM of the CA that signed the serving
    /// certificate (nil leaves it out, e.g. for cert-manager's CA injector to fill).
    /// `defaultFailurePolicy` applies to injectors that do not set `spec.failurePolicy`.
    public static func object(name: String, injectors: [SidecarInjector], service: Service, caBundle: String?,
                              defaultFailurePolicy: SidecarInjectorSpec.FailurePolicy = .ignore) -> Node {
        var webhooks: [Node] = []
        for injector in injectors.sorted(by: { $0.name < $1.name }) {
            var expressions: [Node] = [[
                "key": "kubernetes.io/metadata.name", "operator": "NotIn",
                "values": .strings((SidecarInjection.protectedNamespaces.union([service.namespace])).sorted()),
            ]]
            var namespaceSelector = Mapping()
            if let selector = injector.spec.namespaceSelector {
                if !selector.matchLabels.isEmpty {
                    namespaceSelector["matchLabels"] = .mapping(Mapping(selector.matchLabels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
                }
                expressions += selector.matchExpressions.map { requirement in
                    var term = Mapping()
                    term["key"] = .string(requirement.key)
                    term["operator"] = .string(requirement.operator.rawValue)
                    if !requirement.values.isEmpty { term["values"] = .strings(requirement.values) }
                    return .mapping(term)
                }
            }
            namespaceSelector["matchExpressions"] = .sequence(expressions)
            var clientConfig = Mapping()
            clientConfig["service"] = [
                "name": .string(service.name), "namespace": .string(service.namespace), "path": .string(service.path), "port": .int(service.port),
            ]
            if let caBundle { clientConfig["caBundle"] = .string(Base64.encode(Array(caBundle.utf8))) }
            webhooks.append([
                "name": .string("\(injector.name).inject.netwatch.dev"),
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": .string((injector.spec.failurePolicy ?? defaultFailurePolicy).rawValue),
                "timeoutSeconds": .int(timeoutSeconds),
                "reinvocationPolicy": "IfNeeded",
                "matchPolicy": "Equivalent",
                "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Namespaced"]],
                "namespaceSelector": .mapping(namespaceSelector),
                "clientConfig": .mapping(clientConfig),
            ])
        }
        return [
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": ["name": .string(name), "labels": ["app.kubernetes.io/managed-by": "netwatch"]],
            "webhooks": .sequence(webhooks),
        ]
    }
}
