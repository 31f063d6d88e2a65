import DataTree
import KubeModel
import NetWatchAPI

/// The mutating admission webhook's logic, without the server: an AdmissionReview
/// (`admission.k8s.io/v1`) in, the HTTP status and AdmissionReview response out.
///
/// ## Guarantees
/// - The response has the request's apiVersion and kind and echoes `request.uid`.
/// - A pod that is injected gets `allowed: true`, `patchType: JSONPatch` and the base64 RFC
///   6902 patch; a pod that is skipped, and any object that is not a pod, `allowed: true` and no
///   patch: the webhook never denies a pod.
/// - A body that is not an AdmissionReview gets HTTP 400 with a message saying what is wrong.
/// - A pod with only `generateName`, or without a namespace, is handled: the namespace comes
///   from `request.namespace`, as the API server sends it.
public struct AdmissionHandler: Sendable {
    public var injectors: [SidecarInjection.Injector]
    public var capabilities: SidecarInjection.Capabilities
    public var operatorNamespace: String
    /// A namespace's labels; nil when unknown (standalone webhook without API access). Unknown
    /// namespaces count as selected: the API server only calls the webhook for pods of the
    /// namespaces its configuration's namespaceSelector picks, which netwatch derives from the
    /// injectors.
    public var namespaceLabels: @Sendable (String) -> [String: String]?

    public init(injectors: [SidecarInjection.Injector], capabilities: SidecarInjection.Capabilities, operatorNamespace: String,
                namespaceLabels: @escaping @Sendable (String) -> [String: String]? = { _ in nil }) {
        self.injectors = injectors
        self.capabilities = capabilities
        self.operatorNamespace = operatorNamespace
        self.namespaceLabels = namespaceLabels
    }

    /// What the server answers.
    public struct Reply: Sendable, Equatable {
        public var status: Int
        public var body: [UInt8]
        /// For logs and metrics: injected, skipped, unchanged, ignored (not a pod) or invalid.
        public var outcome: String
        public var detail: String
    }

    public func handle(_ body: [UInt8]) -> Reply {
        let review: Node
        do throws(JSONReaderError) {
            review = try JSONReader().read(body)
        } catch {
            return invalid(body.isEmpty ? "the body must be one JSON AdmissionReview object" : "the body is not JSON: \(error.message) at line \(error.line), column \(error.column)")
        }
        guard case .mapping = review else { return invalid("the body must be a JSON object (an AdmissionReview)") }
        guard review["kind"]?.string == "AdmissionReview" else { return invalid("kind must be AdmissionReview") }
        guard let apiVersion = review["apiVersion"]?.string, apiVersion == "admission.k8s.io/v1" else {
            return invalid("apiVersion must be admission.k8s.io/v1 (list only v1 in the webhook's admissionReviewVersions)")
        }
        guard let request = review["request"], case .mapping = request else { return invalid("request is missing") }
        guard let uid = request["uid"]?.string, !uid.isEmpty else { return invalid("request.uid is missing") }

        let kind = request["kind"]
        guard kind?["group"]?.string ?? "" == "", kind?["kind"]?.string == "Pod", request["operation"]?.string ?? "CREATE" == "CREATE",
              let pod = request["object"], case .mapping = pod
        else {
            return allowed(uid: uid, apiVersion: apiVersion, patch: nil, outcome: "ignored", detail: "not a pod CREATE: allowed unchanged")
        }
        let namespace = request["namespace"]?.string ?? pod["metadata"]?["namespace"]?.string ?? "default"
        let labels = namespaceLabels(namespace)
        // Unknown labels: the webhook configuration's namespace selector already chose this namespace.
        let injectors = labels == nil ? self.injectors.map { injector in
            var selected = injector
            if selected.namespaceSelector != nil { selected.namespaceSelector = LabelSelector() }
            return selected
        } : self.injectors
        let outcome = SidecarInjection.inject(pod: pod, namespace: namespace, namespaceLabels: labels ?? [:], injectors: injectors,
                                              capabilities: capabilities, operatorNamespace: operatorNamespace)
        switch outcome {
        case .injected(_, let patch, let injector):
            return allowed(uid: uid, apiVersion: apiVersion, patch: patch, outcome: "injected", detail: "by \(injector)")
        case .unchanged:
            return allowed(uid: uid, apiVersion: apiVersion, patch: nil, outcome: "unchanged", detail: "already injected")
        case .skipped(let reason):
            return allowed(uid: uid, apiVersion: apiVersion, patch: nil, outcome: "skipped", detail: reason)
        }
    }

    func allowed(uid: String, apiVersion: String, patch: [Node]?, outcome: String, detail: String) -> Reply {
        var response = Mapping()
        response["uid"] = .string(uid)
        response["allowed"] = true
        if let patch {
            response["patchType"] = "JSONPatch"
            var json = JSONEmitter(style: .compact).emit(.sequence(patch))
            if json.last == UInt8(ascii: "\n") { json.removeLast() }
            response["patch"] = .string(Base64.encode(json))
        }
        let review: Node = ["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "response": .mapping(response)]
        return Reply(status: 200, body: JSONEmitter(style: .compact).emit(review), outcome: outcome, detail: detail)
    }

    func invalid(_ message: String) -> Reply {
        let status: Node = ["kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 400, "reason": "BadRequest",
                            "message": .string("netwatch webhook: \(message)")]
        return Reply(status: 400, body: JSONEmitter(style: .compact).emit(status), outcome: "invalid", detail: message)
    }
}
