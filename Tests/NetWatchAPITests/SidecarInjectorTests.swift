import DataTree
import KubeModel
import NetWatchAPI
import Testing

@Suite("SidecarInjector validation")
struct SidecarInjectorTests {
    @Test("a valid injector decodes cluster-scoped with defaults: the built-in exporter, native where supported, failurePolicy left to the webhook's default")
    func defaults() throws {
        let object = try raw("""
            apiVersion: netwatch.dev/v1alpha1
            kind: SidecarInjector
            metadata: {name: network-exporter, namespace: ignored}
            spec:
              namespaceSelector: {matchLabels: {netwatch.dev/inject: enabled}}
            """)
        let (resource, problems) = NetWatchKind.sidecarInjector.decode(object)
        #expect(problems.isEmpty)
        guard case .sidecarInjector(let injector)? = resource else { Issue.record("not decoded"); return }
        #expect(injector.metadata.namespace == nil)
        #expect(injector.spec.sidecar == .networkExporter && injector.spec.nativeSidecar == .auto && injector.spec.failurePolicy == nil)
        #expect(injector.spec.podSelector == nil)
    }

    @Test("an invalid template names each problem's field: unnamed or imageless containers, clashing names, unnamed volumes, a bad enum")
    func invalidTemplate() throws {
        let found = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: SidecarInjector
            metadata: {name: broken}
            spec:
              containers:
              - {image: "x:1"}
              - {name: netwatch-network-exporter, image: "y:1"}
              - {name: Bad_Name, image: "z:1"}
              - {name: agent}
              initContainers:
              - {name: agent, image: "a:1"}
              volumes:
              - {emptyDir: {}}
            """)
        #expect(found == [
            "spec.containers[0].name: a container needs a name of lowercase letters, digits and '-' (at most 63, a DNS label)",
            "spec.containers[1].name: netwatch-network-exporter is already used by the built-in network exporter; container names must be unique",
            "spec.containers[2].name: a container needs a name of lowercase letters, digits and '-' (at most 63, a DNS label)",
            "spec.containers[3].image: container agent needs an image",
            "spec.initContainers[0].name: agent is already used by spec.containers[3]; container names must be unique",
            "spec.volumes[0].name: a volume needs a name (a DNS label)",
        ])
        let badEnum = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: SidecarInjector
            metadata: {name: broken}
            spec: {failurePolicy: Sometimes, sidecar: none}
            """)
        #expect(badEnum.count == 1 && badEnum[0].hasPrefix("spec.failurePolicy:"), "\(badEnum)")
        let empty = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: SidecarInjector
            metadata: {name: nothing}
            spec: {sidecar: none}
            """)
        #expect(empty == ["spec.containers: with sidecar: none the injector needs containers or initContainers; it would inject nothing"])
    }

    @Test("the CRD is cluster-scoped")
    func crdScope() {
        let crd = CustomResourceDefinitions.all().first { $0.fileName == "netwatch.dev_sidecarinjectors.yaml" }
        #expect(crd?.document["spec"]?["scope"] == "Cluster")
        #expect(CustomResourceDefinitions.all().filter { $0.document["spec"]?["scope"] == "Namespaced" }.count == NetWatchKind.allCases.count - 1)
    }
}
