import DataTree
import KubeModel
import NetWatchAPI

/// The GitOps form of injection: one RFC 6902 patch per injected workload under `injection/`,
/// and a kustomize `Component` (`injection/kustomization.yaml`) that applies them, so a
/// kustomization adds `components: [<out>/injection]` and gets the pods the webhook would
/// have made.
///
/// Only workloads are patched (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
/// CronJobs): their templates change with the manifests, not with pod churn, so these files
/// never change on a pod event. Bare Pods are injected by `netwatch inject`.
struct InjectionPatches {
    static let directory = "injection"

    let snapshot: Snapshot
    let options: RenderOptions

    func artifacts() -> (artifacts: [Artifact], diagnostics: [Diagnostic]) {
        guard options.injectionPatches, !snapshot.sidecarInjectors.isEmpty else { return ([], []) }
        let injectors = snapshot.sidecarInjectors.map(SidecarInjection.Injector.init)
        var labels: [String: [String: String]] = [:]
        for namespace in snapshot.namespaces { labels[namespace.metadata.name] = namespace.metadata.labels }
        var diagnostics: [Diagnostic] = []
        var unknownNamespaces: Set<String> = []
        var artifacts: [Artifact] = []
        var patches: [Node] = []
        let workloads = snapshot.workloads.sorted {
            ($0.metadata.namespace ?? "default", $0.kind, $0.metadata.name) < ($1.metadata.namespace ?? "default", $1.kind, $1.metadata.name)
        }
        for workload in workloads {
            guard let document = workload.document else { continue }
            let namespace = workload.metadata.namespace ?? "default"
            let apiVersion = document["apiVersion"]?.string ?? ""
            let (group, version) = apiVersion.contains("/")
                ? (String(apiVersion.prefix { $0 != "/" }), String(apiVersion.drop { $0 != "/" }.dropFirst()))
                : ("", apiVersion)
            if labels[namespace] == nil, injectors.contains(where: { $0.namespaceSelector != nil }), unknownNamespaces.insert(namespace).inserted {
                diagnostics.append(Diagnostic(.warning, object: ObjectReference(kind: "Namespace", namespace: nil, name: namespace),
                    message: "namespace \(namespace) is not among the manifests, so injectors' namespace selectors see no labels there; add its Namespace manifest or annotate pod templates \(SidecarInjection.injectAnnotation): \"true\""))
            }
            let outcome = WorkloadInjection.inject(document, group: group, kind: workload.kind, namespaceLabels: labels[namespace] ?? [:],
                                                   injectors: injectors, capabilities: options.capabilities, operatorNamespace: options.operatorNamespace)
            guard case .injected(_, let patch, _) = outcome else { continue }
            let file = "\(namespace)/\(workload.kind.lowercased())-\(workload.metadata.name).json"
            artifacts.append(Artifact(path: "\(Self.directory)/\(file)", bytes: JSONEmitter().emit(.sequence(patch)), role: .injectionPatch))
            patches.append([
                "path": .string(file),
                "target": ["group": .string(group), "version": .string(version), "kind": .string(workload.kind), "namespace": .string(namespace), "name": .string(workload.metadata.name)],
            ])
        }
        let component: Node = [
            "apiVersion": "kustomize.config.k8s.io/v1alpha1",
            "kind": "Component",
            "patches": .sequence(patches),
        ]
        artifacts.append(Artifact(path: "\(Self.directory)/kustomization.yaml", bytes: emitYAML(component), role: .injectionPatch))
        return (artifacts, diagnostics)
    }
}
