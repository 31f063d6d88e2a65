public import KubeModel

/// One output file: where it goes under the output directory and its exact bytes.
public struct Artifact: Sendable, Hashable, Comparable {
    public enum Role: String, Sendable, Hashable {
        /// A Prometheus configuration file; a change needs a reload.
        case prometheusConfig
        /// A file_sd target file; Prometheus re-reads it without a reload.
        case fileSD
        /// A rule file (alerting and recording rules); a change needs a reload.
        case ruleFile
        /// blackbox_exporter's modules for the stack's NetworkProbes (`blackbox/blackbox.yml`);
        /// a change needs a reload of the blackbox_exporter, not of Prometheus.
        case proberConfig
        /// A Grafana dashboard JSON file (file provisioning, or review in GitOps).
        case dashboard
        /// A Kubernetes manifest carrying generated configuration.
        case kubernetesManifest
        /// A JSON 6902 patch injecting sidecars into a workload, or the kustomize Component applying them.
        case injectionPatch
        /// A NetworkPolicy proposed from observed connections.
        case networkPolicy
        /// A Secret or ConfigMap value a scrape reads from `credentials/` (operator output only;
        /// written readable by its owner alone).
        case credential
        /// The Secret carrying those values in-cluster (applied like other manifests, written
        /// readable by its owner alone).
        case credentialsManifest
        /// The list of credential files a Prometheus must mount (`netwatch render`, which never
        /// writes their values).
        case credentialList
    }

    /// The Kubernetes object a manifest artifact becomes when it is applied.
    public struct KubernetesObject: Sendable, Hashable, CustomStringConvertible {
        /// `v1`, `grafana.integreatly.org/v1beta1`, …
        public var apiVersion: String
        public var reference: ObjectReference

        public init(apiVersion: String, reference: ObjectReference) {
            self.apiVersion = apiVersion
            self.reference = reference
        }

        public var description: String { "\(apiVersion) \(reference)" }
    }

    /// Whether the bytes hold secret values, so files get owner-only permissions.
    public var isSensitive: Bool { role == .credential || role == .credentialsManifest }

    /// Whether a changed artifact of this role needs its Prometheus to reload: its
    /// configuration, rule files and the credential files it names (file_sd files are re-read
    /// by Prometheus itself).
    public var needsReload: Bool { role == .prometheusConfig || role == .ruleFile || role == .credential }

    /// Whether the artifact is a Kubernetes object to apply in-cluster (its `object` is set).
    public var isAppliedManifest: Bool { role == .kubernetesManifest || role == .credentialsManifest }

    /// Relative path with `/` separators, e.g. `shop/main/prometheus/prometheus.yml`.
    public var path: String
    public var bytes: [UInt8]
    public var role: Role
    /// The resource this is output of — the MonitoringStack for everything under
    /// `<namespace>/<stack>/`, the FlowPolicy for its NetworkPolicies — or nil (injection
    /// patches, policies proposed from flow files alone, CRDs).
    public var owner: ObjectReference?
    /// For a Kubernetes manifest, the object its bytes (one YAML document) describe.
    public var object: KubernetesObject?

    public init(path: String, bytes: [UInt8], role: Role, owner: ObjectReference? = nil, object: KubernetesObject? = nil) {
        self.path = path
        self.bytes = bytes
        self.role = role
        self.owner = owner
        self.object = object
    }

    public static func < (lhs: Artifact, rhs: Artifact) -> Bool { lhs.path < rhs.path }
}

/// What `render` produces: the artifacts, sorted by path, and every diagnostic, sorted.
public struct RenderResult: Sendable, Hashable {
    public var artifacts: [Artifact]
    public var diagnostics: [Diagnostic]

    public init(artifacts: [Artifact], diagnostics: [Diagnostic]) {
        self.artifacts = artifacts.sorted()
        self.diagnostics = diagnostics.sorted()
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Knobs of generation that are not part of any resource.
public struct RenderOptions: Sendable, Hashable {
    /// Above this many bytes a ConfigMap or Secret payload is gzipped (prometheus-operator keeps
    /// its buckets at half the 1 MiB object limit).
    public var compressionThreshold: Int
    /// Largest data size of one file_sd ConfigMap before the next one is started.
    public var configMapBudget: Int
    /// Largest data size of one rule-file ConfigMap (under the 1 MiB object limit, with room
    /// for metadata).
    public var ruleConfigMapBudget: Int

    /// Whether `render` writes the injection patches (the operator does not: in a cluster the
    /// webhook injects).
    public var injectionPatches: Bool
    /// What the target cluster supports, for injection patches.
    public var capabilities: SidecarInjection.Capabilities
    /// netwatch's own namespace, never injected.
    public var operatorNamespace: String
    /// Whether `render` writes NetworkPolicies from flow files (the operator does not: it
    /// plans FlowPolicies with its own flow sources and clock).
    public var flowPolicies: Bool
    /// What happens to the Secret and ConfigMap values scrapes read.
    public var credentials: CredentialDelivery = .listed

    /// How credential values referenced by scrape endpoints reach Prometheus.
    public enum CredentialDelivery: Sendable, Hashable {
        /// `netwatch render`: values are never written; `prometheus/credentials.yaml` lists the
        /// Secret and ConfigMap keys to mount at `credentials/` next to prometheus.yml.
        case listed
        /// The operator: values go into the Secret `<output>-credentials` (in-cluster output)
        /// or into files under `prometheus/credentials/` (directory output), owner-readable only.
        case materialized
    }

    public init(compressionThreshold: Int = 512 * 1024, configMapBudget: Int = 512 * 1024, ruleConfigMapBudget: Int = 1_000_000,
                injectionPatches: Bool = true, capabilities: SidecarInjection.Capabilities = .init(nativeSidecars: true),
                operatorNamespace: String = "netwatch-system", flowPolicies: Bool = true) {
        self.flowPolicies = flowPolicies
        self.compressionThreshold = compressionThreshold
        self.configMapBudget = configMapBudget
        self.ruleConfigMapBudget = ruleConfigMapBudget
        self.injectionPatches = injectionPatches
        self.capabilities = capabilities
        self.operatorNamespace = operatorNamespace
    }
}
