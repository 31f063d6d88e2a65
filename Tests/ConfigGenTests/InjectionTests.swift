import ConfigGen
import DataTree
import Foundation
import KubeModel
import NetWatchAPI
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
        // The built-in exporter, then a custom template (init containers, sidecars and volumes).
        for (injector, suffix) in [(Self.injector, ""), (Self.custom, " (custom template)")] {
            for pod in try Self.pods() {
                var entry = Mapping([("name", .string((pod["metadata"]?["name"]?.string ?? pod["metadata"]?["generateName"]?.string ?? "") + suffix)), ("input", pod)])
                switch Self.inject(pod, injectors: [injector]) {
                case .skipped(let reason): entry["skipped"] = .string(reason)
                case .unchanged: entry["unchanged"] = true
                case .injected(let mutated, let patch, let injector):
                    entry["injector"] = .string(injector)
                    entry["patch"] = .sequence(patch)
                    entry["mutated"] = mutated
                }
                cases.append(.mapping(entry))
            }
        }
        let bytes = JSONEmitter().emit(.sequence(cases))
        let file = root.appendingPathComponent("cases.json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try Data(bytes).write(to: file)
        }
        #expect(FileManager.default.contents(atPath: file.path).map { [UInt8]($0) } == bytes, "run `make golden` after an intended change")
        let outcomes = cases.map { ($0["name"]?.string ?? "", $0["skipped"] != nil ? "skipped" : $0["unchanged"] != nil ? "unchanged" : "injected") }
        let expected = ["injected", "injected", "skipped", "injected", "skipped", "skipped", "injected", "injected", "injected", "injected"]
        #expect(outcomes.map(\.1) == expected + expected, "\(outcomes)")
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

    @Test("a Job's pod is skipped without native sidecars (it would never complete), injected with them")
    func jobsNeedNativeSidecars() throws {
        let job = try #require(try Self.pods().first { $0["metadata"]?["name"] == "pi-job-x7k2q" })
        guard case .skipped(let reason) = Self.inject(job, native: false) else { Issue.record("a Job pod got a regular sidecar"); return }
        #expect(reason.contains("restartPolicy Never"))
        guard case .injected(let pod, _, _) = Self.inject(job, native: true) else { Issue.record("not injected with native sidecars"); return }
        #expect(pod["spec"]?["initContainers"]?.sequence?.first?["restartPolicy"] == "Always")
        let always = SidecarInjection.Injector(name: "network", namespaceSelector: Self.injector.namespaceSelector, nativeSidecar: .always)
        if case .injected = Self.inject(job, native: false, injectors: [always]) {} else { Issue.record("nativeSidecar: always did not inject") }
    }

    static let custom = SidecarInjection.Injector(
        name: "tracing", namespaceSelector: LabelSelector(matchLabels: ["netwatch.dev/inject": "enabled"]), exporterImage: nil,
        containers: [["name": "otel-agent", "image": "otel/opentelemetry-collector:0.110.0", "volumeMounts": [["name": "otel-config", "mountPath": "/conf"]]]],
        initContainers: [["name": "otel-init", "image": "busybox:1.36", "command": ["true"]]],
        volumes: [["name": "otel-config", "emptyDir": [:]]])

    @Test("custom containers, init containers and volumes go where Istio puts its own; re-injection by a changed injector removes exactly what the old one added")
    func customTemplateAndReplacement() throws {
        let pod = try #require(try Self.pods().first { $0["metadata"]?["name"] == "myapp-pod" })
        guard case .injected(let first, let patch, _) = Self.inject(pod, injectors: [Self.custom]) else { Issue.record("not injected"); return }
        let initNames = first["spec"]?["initContainers"]?.sequence?.compactMap { $0["name"]?.string }
        // injected init containers, then native sidecars, then the pod's own
        #expect(initNames == ["otel-init", "otel-agent", "init-myservice", "init-mydb"])
        #expect(first["spec"]?["volumes"]?.sequence?.map { $0["name"] } == ["otel-config"])
        #expect(first["metadata"]?["annotations"]?[SidecarInjection.statusAnnotation] == "initContainers=otel-agent,otel-init;volumes=otel-config")
        // The pod's own init containers are not rewritten: they stay, and the patch inserts before them.
        #expect(patch.contains { $0["path"] == "/spec/initContainers/0" && $0["op"] == "add" })
        #expect(!patch.contains { $0["op"] == "replace" })

        var changed = Self.custom
        changed.containers = [["name": "otel-agent-v2", "image": "otel/opentelemetry-collector:0.111.0"]]
        changed.volumes = []
        guard case .injected(let second, _, _) = Self.inject(first, injectors: [changed]) else { Issue.record("the changed injector did not re-inject"); return }
        #expect(second["spec"]?["initContainers"]?.sequence?.compactMap { $0["name"]?.string } == ["otel-init", "otel-agent-v2", "init-myservice", "init-mydb"])
        #expect(second["spec"]?["volumes"] == nil)
        #expect(Self.inject(second, injectors: [changed]) == .unchanged)
        // Regular sidecars go last, after the application's containers.
        guard case .injected(let regular, _, _) = Self.inject(pod, native: false, injectors: [Self.custom]) else { Issue.record("not injected"); return }
        #expect(regular["spec"]?["containers"]?.sequence?.compactMap { $0["name"]?.string } == ["myapp-container", "otel-agent"])
        #expect(regular["spec"]?["containers"]?.sequence?.last?["restartPolicy"] == nil)
    }

    @Test("JSON patches: inserts and removals at one place of an array become adds and removes at indices; keys with / and ~ are escaped")
    func patchShapes() {
        let before: Node = ["a": ["x", "y"], "m": ["k/1": "v"]]
        let inserted: Node = ["a": ["new", "x", "y"], "m": ["k/1": "v", "t~2": "w"]]
        #expect(JSONPatch.diff(from: before, to: inserted) == [
            ["op": "add", "path": "/a/0", "value": "new"],
            ["op": "add", "path": "/m/t~02", "value": "w"],
        ])
        #expect(JSONPatch.diff(from: inserted, to: before) == [
            ["op": "remove", "path": "/a/0"],
            ["op": "remove", "path": "/m/t~02"],
        ])
        let middle: Node = ["a": ["x", "p", "q", "y"]]
        #expect(JSONPatch.diff(from: ["a": ["x", "y"]], to: middle) == [["op": "add", "path": "/a/1", "value": "p"], ["op": "add", "path": "/a/2", "value": "q"]])
        #expect(JSONPatch.diff(from: ["a": ["x", "y"]], to: ["a": ["y", "x", "z"]]) == [["op": "replace", "path": "/a", "value": ["y", "x", "z"]]])
        #expect(JSONPatch.diff(from: ["m": ["k/1": "v"]], to: ["m": ["k/1": "w"]]) == [["op": "replace", "path": "/m/k~11", "value": "w"]])
    }
}

@Suite("MutatingWebhookConfiguration")
struct WebhookConfigurationTests {
    @Test("one entry per injector with its namespace selector and failure policy; system and netwatch's namespaces never match; golden, checked by kubernetes-validate in make test")
    func entries() throws {
        let injectors = [
            SidecarInjector(metadata: ObjectMeta(name: "network-exporter"), spec: SidecarInjectorSpec(namespaceSelector: LabelSelector(matchLabels: ["netwatch.dev/inject": "enabled"]))),
            SidecarInjector(metadata: ObjectMeta(name: "audit"), spec: SidecarInjectorSpec(
                namespaceSelector: LabelSelector(matchExpressions: [.init(key: "team", operator: .in, values: ["payments", "ledger"])]), failurePolicy: .fail)),
        ]
        let object = WebhookConfiguration.object(name: "netwatch-sidecar-injector", injectors: injectors,
                                                 service: .init(name: "netwatch-webhook", namespace: "netwatch-system"), caBundle: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        let webhooks = try #require(object["webhooks"]?.sequence)
        #expect(webhooks.map { $0["name"]?.string } == ["audit.inject.netwatch.dev", "network-exporter.inject.netwatch.dev"])
        #expect(webhooks.map { $0["failurePolicy"]?.string } == ["Fail", "Ignore"])
        let failClosed = WebhookConfiguration.object(name: "netwatch-sidecar-injector", injectors: injectors, service: .init(name: "netwatch-webhook", namespace: "netwatch-system"),
                                                     caBundle: nil, defaultFailurePolicy: .fail)
        #expect(failClosed["webhooks"]?.sequence?.map { $0["failurePolicy"]?.string } == ["Fail", "Fail"], "the default applies where an injector sets none")
        for webhook in webhooks {
            let terms = webhook["namespaceSelector"]?["matchExpressions"]?.sequence ?? []
            #expect(terms.first == ["key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-node-lease", "kube-public", "kube-system", "netwatch-system"]])
            #expect(webhook["timeoutSeconds"] == 5 && webhook["reinvocationPolicy"] == "IfNeeded" && webhook["sideEffects"] == "None")
            #expect(webhook["clientConfig"]?["caBundle"] == "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=")
        }
        #expect(webhooks[0]["namespaceSelector"]?["matchExpressions"]?.sequence?.last == ["key": "team", "operator": "In", "values": ["payments", "ledger"]])
        #expect(webhooks[1]["namespaceSelector"]?["matchLabels"] == ["netwatch.dev/inject": "enabled"])

        let file = repositoryRoot.appendingPathComponent("Tests/ConfigGenTests/Golden/injection/mutatingwebhookconfiguration.yaml")
        let bytes = try YAMLEmitter().emit(object)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try Data(bytes).write(to: file) }
        #expect(FileManager.default.contents(atPath: file.path).map { [UInt8]($0) } == bytes, "run `make golden` after an intended change")
    }
}
