import ConfigGen
import DataTree
import Foundation
import KubeModel
import Testing
import YAML

@Suite("Sidecar injection (core)")
struct InjectionTests {
    static let injector = SidecarInjection.Injector(name: "network", namespaceSelector: LabelSelector(matchLabels: ["netwatch.dev/inject": "enabled"]))
    static let shopLabels = ["netwatch.dev/inject": "enabled"]

    static func pods() throws -> [Node] {
        let url = repositoryRoot.appendingPathComponent("Tests/ConfigGenTests/Injection/pods.yaml")
        return try YAMLParser().parse(Array(try Data(contentsOf: url)), file: url.path).map(\.node)
    }

    static func inject(_ pod: Node, native: Bool = true, injectors: [SidecarInjection.Injector] = [injector], labels: [String: String] = shopLabels) -> SidecarInjection.Outcome {
        let namespace = pod["metadata"]?["namespace"]?.string ?? "shop"
        return SidecarInjection.inject(pod: pod, namespace: namespace, namespaceLabels: labels, injectors: injectors,
                                       capabilities: .init(nativeSidecars: native), operatorNamespace: "netwatch-system")
    }

    @Test("the corpus matches its golden outcomes; hack/check-patches applies every patch with PyPI jsonpatch")
    func golden() throws {
        let root = repositoryRoot.appendingPathComponent("Tests/ConfigGenTests/Golden/injection")
        var cases: [Node] = []
        for pod in try Self.pods() {
            var entry = Mapping([("name", .string(pod["metadata"]?["name"]?.string ?? pod["metadata"]?["generateName"]?.string ?? "")), ("input", pod)])
            switch Self.inject(pod) {
            case .skipped(let reason): entry["skipped"] = .string(reason)
            case .unchanged: entry["unchanged"] = true
            case .injected(let mutated, let patch, let injector):
                entry["injector"] = .string(injector)
                entry["patch"] = .sequence(patch)
                entry["mutated"] = mutated
            }
            cases.append(.mapping(entry))
        }
        let bytes = JSONEmitter().emit(.sequence(cases))
        let file = root.appendingPathComponent("cases.json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try Data(bytes).write(to: file)
        }
        #expect(FileManager.default.contents(atPath: file.path).map { [UInt8]($0) } == bytes, "run `make golden` after an intended change")
        let outcomes = cases.map { ($0["name"]?.string ?? "", $0["skipped"] != nil ? "skipped" : $0["unchanged"] != nil ? "unchanged" : "injected") }
        #expect(outcomes.map(\.1) == ["injected", "injected", "skipped", "injected", "skipped", "skipped", "injected"], "\(outcomes)")
    }

    @Test("idempotent: injecting the result again changes nothing; the sidecar is locked down and carries the metrics port")
    func idempotent() throws {
        for pod in try Self.pods() {
            guard case .injected(let mutated, _, _) = Self.inject(pod) else { continue }
            #expect(Self.inject(mutated) == .unchanged)
            let sidecars = (mutated["spec"]?["initContainers"]?.sequence ?? []).filter { $0["name"] == "netwatch-network-exporter" }
            #expect(sidecars.count == 1)
            let sidecar = try #require(sidecars.first)
            #expect(sidecar["restartPolicy"] == "Always")
            #expect(sidecar["securityContext"]?["readOnlyRootFilesystem"] == true && sidecar["securityContext"]?["runAsNonRoot"] == true)
            #expect(sidecar["securityContext"]?["allowPrivilegeEscalation"] == false && sidecar["securityContext"]?["capabilities"]?["drop"] == ["ALL"])
            #expect(sidecar["resources"]?["limits"]?["memory"] != nil)
            #expect(sidecar["ports"]?.sequence?.first?["name"] == "nw-exporter")
        }
    }

    @Test("order of checks and capabilities: native sidecars only where supported; opt-in past the namespace selector; pod selector")
    func orderOfChecks() throws {
        let pod = try #require(try Self.pods().first)
        guard case .injected(let regular, _, _) = Self.inject(pod, native: false) else { Issue.record("not injected"); return }
        #expect(regular["spec"]?["containers"]?.sequence?.last?["name"] == "netwatch-network-exporter")
        #expect(regular["spec"]?["initContainers"] == nil)
        #expect(Self.inject(pod, labels: [:]) == .skipped("no injector selects this pod"))
        var optedIn = pod
        if case .mapping(var root) = optedIn, case .mapping(var metadata)? = root["metadata"] {
            metadata["annotations"] = ["netwatch.dev/inject": "true"]
            root["metadata"] = .mapping(metadata)
            optedIn = .mapping(root)
        }
        if case .injected = Self.inject(optedIn, labels: [:]) {} else { Issue.record("the opt-in annotation did not inject") }
        let picky = SidecarInjection.Injector(name: "network", namespaceSelector: LabelSelector(matchLabels: Self.shopLabels), podSelector: LabelSelector(matchLabels: ["app": "db"]))
        #expect(Self.inject(pod, injectors: [picky]) == .skipped("no injector selects this pod"))
    }
}
