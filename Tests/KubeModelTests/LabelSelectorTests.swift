import DataTree
import KubeModel
import Testing
import YAML

@Suite("Label selectors")
struct LabelSelectorTests {
    let labels = ["app": "web", "tier": "frontend"]

    @Test("an empty selector matches everything")
    func emptyMatchesAll() {
        #expect(LabelSelector().matches([:]))
        #expect(LabelSelector().matches(labels))
    }

    @Test("operators follow the API server's semantics", arguments: [
        (LabelSelector.Requirement(key: "tier", operator: .in, values: ["frontend", "edge"]), true),
        (LabelSelector.Requirement(key: "missing", operator: .in, values: ["x"]), false),
        (LabelSelector.Requirement(key: "tier", operator: .notIn, values: ["frontend"]), false),
        (LabelSelector.Requirement(key: "missing", operator: .notIn, values: ["x"]), true),
        (LabelSelector.Requirement(key: "app", operator: .exists), true),
        (LabelSelector.Requirement(key: "app", operator: .doesNotExist), false),
        (LabelSelector.Requirement(key: "missing", operator: .doesNotExist), true),
    ])
    func operators(requirement: LabelSelector.Requirement, expected: Bool) {
        #expect(LabelSelector(matchExpressions: [requirement]).matches(labels) == expected)
    }

    @Test("matchLabels and matchExpressions must all hold")
    func conjunction() {
        let selector = LabelSelector(matchLabels: ["app": "web"], matchExpressions: [.init(key: "tier", operator: .notIn, values: ["frontend"])])
        #expect(!selector.matches(labels))
        #expect(selector.matches(["app": "web", "tier": "backend"]))
    }

    @Test("validation reports values on Exists and missing values on In, with field paths")
    func validation() {
        let selector = LabelSelector(matchExpressions: [
            .init(key: "a", operator: .exists, values: ["x"]), .init(key: "b", operator: .in), .init(key: "bad key!", operator: .exists),
        ])
        let problems = selector.validate(at: "spec.selector").map(\.path)
        #expect(problems == ["spec.selector.matchExpressions[0].values", "spec.selector.matchExpressions[1].values", "spec.selector.matchExpressions[2].key"])
    }
}

@Suite("Object reader")
struct ObjectReaderTests {
    @Test("expands List and typed *List kinds, filling kind and apiVersion of typed items")
    func lists() throws {
        let documents = try YAMLParser().parse("""
            apiVersion: v1
            kind: PodList
            items:
            - metadata: {name: a, namespace: x}
              status: {podIP: 10.0.0.1}
            - apiVersion: v1
              kind: List
              items:
              - {apiVersion: v1, kind: Namespace, metadata: {name: x}}
            """)
        let (objects, problems) = ObjectReader.rawObjects(from: documents[0].node, source: SourceLocation(file: "l.yaml", line: 1))
        #expect(problems.isEmpty)
        #expect(objects.map(\.reference.description) == ["Pod x/a", "Namespace x"])
        guard case .success(.pod(let pod)) = ObjectReader.decode(objects[0]) else {
            Issue.record("not a pod")
            return
        }
        #expect(pod.status.primaryIP == "10.0.0.1")
    }

    @Test("a type mismatch names the object and the field path")
    func typeMismatch() throws {
        let node = try #require(try YAMLParser().parse("{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, ports: [{containerPort: http}]}]}}").first?.node)
        let (objects, _) = ObjectReader.rawObjects(from: node, source: nil)
        guard case .failure(let diagnostic) = ObjectReader.decode(objects[0]) else {
            Issue.record("decoded a bad pod")
            return
        }
        #expect(diagnostic.field == "spec.containers[0].ports[0].containerPort")
        #expect(diagnostic.object?.description == "Pod p")
    }

    @Test("documents without kind or name are reported, not crashed on")
    func missingIdentity() {
        let (_, noKind) = ObjectReader.rawObjects(from: ["apiVersion": "v1"], source: nil)
        #expect(noKind.first?.field == "kind")
        let (_, noName) = ObjectReader.rawObjects(from: ["apiVersion": "v1", "kind": "Pod"], source: nil)
        #expect(noName.first?.field == "metadata.name")
    }
}
