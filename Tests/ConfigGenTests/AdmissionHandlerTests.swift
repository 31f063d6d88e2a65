import ConfigGen
import DataTree
import Foundation
import KubeModel
import KubeTesting
import NetWatchAPI
import Testing
import YAML

@Suite("Admission webhook handler")
struct AdmissionHandlerTests {
    static let handler = AdmissionHandler(
        injectors: [SidecarInjection.Injector(name: "network", namespaceSelector: LabelSelector(matchLabels: ["netwatch.dev/inject": "enabled"]))],
        capabilities: .init(nativeSidecars: true), operatorNamespace: "netwatch-system",
        namespaceLabels: { ["shop": ["netwatch.dev/inject": "enabled"], "plain": [:]][$0] })

    static func review(namespace: String = "shop", kind: String = "Pod", group: String = "", operation: String = "CREATE", object: String? = nil) -> [UInt8] {
        let pod = object ?? #"{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-7d9c-","labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}"#
        return Array("""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",\
            "kind":{"group":"\(group)","version":"v1","kind":"\(kind)"},"resource":{"group":"\(group)","version":"v1","resource":"pods"},\
            "namespace":"\(namespace)","operation":"\(operation)","userInfo":{"username":"system:serviceaccount:kube-system:replicaset-controller"},\
            "object":\(pod),"oldObject":null,"dryRun":false}}
            """.utf8)
    }

    static func parse(_ reply: AdmissionHandler.Reply) throws -> Node {
        try #require(try YAMLParser().parse(reply.body, file: "reply").first?.node)
    }

    @Test("a pod with only generateName and no namespace is injected: same apiVersion and kind, the uid echoed, a base64 JSONPatch")
    func injects() throws {
        let reply = Self.handler.handle(Self.review())
        #expect(reply.status == 200 && reply.outcome == "injected")
        let response = try Self.parse(reply)
        #expect(response["apiVersion"] == "admission.k8s.io/v1" && response["kind"] == "AdmissionReview")
        #expect(response["response"]?["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002")
        #expect(response["response"]?["allowed"] == true && response["response"]?["patchType"] == "JSONPatch")
        let encoded = try #require(response["response"]?["patch"]?.string)
        let patchBytes = try #require(Data(base64Encoded: encoded))
        let patch = try #require(try YAMLParser().parse([UInt8](patchBytes), file: "patch").first?.node)
        let pod = try #require(try YAMLParser().parse(#"{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-7d9c-","labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}"#, file: "pod").first?.node)
        guard case .injected(_, let expected, _) = SidecarInjection.inject(pod: pod, namespace: "shop", namespaceLabels: ["netwatch.dev/inject": "enabled"],
                                                                          injectors: Self.handler.injectors, capabilities: .init(nativeSidecars: true), operatorNamespace: "netwatch-system")
        else { Issue.record("the core does not inject this pod"); return }
        #expect(patch == .sequence(expected))
    }

    @Test("allowed without a patch: other kinds, other operations, unselected and protected namespaces; unknown namespaces count as selected")
    func allowsUnchanged() throws {
        for (body, outcome) in [
            (Self.review(kind: "Deployment", group: "apps"), "ignored"),
            (Self.review(operation: "UPDATE"), "ignored"),
            (Self.review(namespace: "plain"), "skipped"),
            (Self.review(namespace: "kube-system"), "skipped"),
            (Self.review(namespace: "netwatch-system"), "skipped"),
        ] {
            let reply = Self.handler.handle(body)
            #expect(reply.status == 200 && reply.outcome == outcome, "\(reply.detail)")
            let response = try Self.parse(reply)
            #expect(response["response"]?["allowed"] == true && response["response"]?["patch"] == nil)
        }
        #expect(Self.handler.handle(Self.review(namespace: "not-known")).outcome == "injected")
    }

    @Test("malformed reviews get 400 with a Status that says what is wrong")
    func malformed() throws {
        for (body, message) in [
            ("{", "the body is not JSON"),
            ("[]", "must be a JSON object"),
            (#"{"kind":"Pod"}"#, "kind must be AdmissionReview"),
            (#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{}}"#, "apiVersion must be admission.k8s.io/v1"),
            (#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}"#, "request is missing"),
            (#"{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"kind":{"kind":"Pod"}}}"#, "request.uid is missing"),
            ("", "one JSON AdmissionReview object"),
        ] {
            let reply = Self.handler.handle(Array(body.utf8))
            #expect(reply.status == 400, "\(body)")
            let status = try Self.parse(reply)
            #expect(status["kind"] == "Status" && status["code"] == 400)
            #expect(status["message"]?.string?.contains(message) == true, "\(body): \(status["message"]?.string ?? "")")
        }
    }

    @Test("fuzz: truncated, corrupted and spliced reviews never crash; every reply is 200 or 400 with a JSON body")
    func fuzz() throws {
        var generator = SplitMix(seed: 0x5EED_CAFE)
        let valid = Self.review()
        for round in 0..<3_000 {
            var bytes = valid
            switch round % 4 {
            case 0: bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count))))
            case 1:
                for _ in 0..<(1 + generator.next() % 8) { bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next()) }
            case 2:
                let cut = Int(generator.next() % UInt64(bytes.count))
                bytes = Array(bytes[cut...] + bytes[..<cut])
            default:
                bytes = (0..<Int(generator.next() % 300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            let reply = Self.handler.handle(bytes)
            #expect(reply.status == 200 || reply.status == 400)
            #expect(throws: Never.self) { _ = try JSONReader().read(reply.body) }
        }
    }
}
