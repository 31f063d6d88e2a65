import DataTree
import KubeModel
import NetWatchAPI

/// Where the values of a stack's credential files go (see `RenderOptions.CredentialDelivery`).
///
/// Guarantees: `netwatch render` (`.listed`) never writes a value, only which Secret and
/// ConfigMap keys Prometheus must find under `credentials/`; the operator (`.materialized`)
/// writes them into one Secret of the stack (or owner-only files for a directory output), so
/// no ConfigMap ever holds a credential and prometheus.yml only names files.
struct CredentialArtifacts {
    let plan: StackPlan
    let base: String
    let store: CredentialStore
    let delivery: RenderOptions.CredentialDelivery
    let packaging: KubernetesPackaging

    func artifacts() -> [Artifact] {
        let sources = plan.credentialFiles
        guard !sources.isEmpty else { return [] }
        switch delivery {
        case .listed:
            return [list(sources)]
        case .materialized:
            var values: [(CredentialSource, [UInt8])] = []
            for source in sources {
                if case .value(let bytes) = store.lookup(source) { values.append((source, bytes)) }
            }
            if let name = packaging.outputObjectName {
                var data = Mapping()
                for (source, bytes) in values { data.appendUnchecked(source.fileName, .string(Base64.encode(bytes))) }
                let object: Node = [
                    "apiVersion": "v1", "kind": "Secret", "metadata": packaging.metadata("\(name)-credentials"), "type": "Opaque", "data": .mapping(data),
                ]
                return [Artifact(path: "\(base)/kubernetes/secret-\(name)-credentials.yaml", object: object, role: .credentialsManifest)]
            }
            return values.map { Artifact(path: "\(base)/prometheus/credentials/\($0.0.fileName)", bytes: $0.1, role: .credential) }
        }
    }

    /// `prometheus/credentials.yaml`: each file prometheus.yml reads and the key it holds.
    private func list(_ sources: [CredentialSource]) -> Artifact {
        let files: [Node] = sources.map { source in
            ["file": .string("credentials/\(source.fileName)"), "kind": .string(source.kind.rawValue), "namespace": .string(source.namespace),
             "name": .string(source.name), "key": .string(source.key)]
        }
        let operatorDoes = packaging.outputObjectName.map { "writes them into the Secret \($0)-credentials" } ?? "writes them under credentials/"
        let document: Node = [
            "description": .string("Files prometheus.yml reads (paths relative to it). netwatch render never writes their values: put each key under the file's name into one Secret in the Prometheus namespace and mount it at credentials/ next to prometheus.yml. The operator \(operatorDoes) itself."),
            "files": .sequence(files),
        ]
        return Artifact(path: "\(base)/prometheus/credentials.yaml", bytes: emitYAML(document), role: .credentialList)
    }
}
