public import ConfigGen
import DataTree
import Foundation
public import KubeModel
import NetWatchAPI
import YAML

/// `netwatch inject`: the webhook's injection applied to manifests on disk. Every document of
/// every input file is kept in order; Pods and the pod templates of workloads that an injector
/// selects are rewritten, everything else passes through unchanged (as data: comments and
/// formatting are not kept, as with `istioctl kube-inject`).
public struct ManifestInjection: Sendable {
    public var capabilities: SidecarInjection.Capabilities
    public var operatorNamespace: String

    public init(capabilities: SidecarInjection.Capabilities, operatorNamespace: String) {
        self.capabilities = capabilities
        self.operatorNamespace = operatorNamespace
    }

    /// One input file rewritten.
    public struct File: Sendable {
        public var path: String
        public var bytes: [UInt8]
    }

    public struct Result: Sendable {
        public var files: [File]
        /// What happened to each pod-bearing object, one line each: "file:line: Kind ns/name: injected by X" or "skipped: why".
        public var report: [String]
        public var diagnostics: [Diagnostic]
        /// Unusable files; nothing should be written when any exist.
        public var fileErrors: [String]
    }

    /// Injects into the objects under `inputs`, with the SidecarInjectors found there and under
    /// `injectorPaths`, and the labels of the Namespaces found in either.
    public func run(inputs: [String], injectorPaths: [String]) -> Result {
        let loader = ManifestLoader()
        let everything = loader.load(paths: inputs + injectorPaths)
        var result = Result(files: [], report: [], diagnostics: everything.diagnostics, fileErrors: everything.fileErrors)
        guard everything.fileErrors.isEmpty else { return result }
        let (snapshot, problems) = Snapshot.decode(everything.objects.filter {
            ($0.type.group == NetWatchKind.group && $0.type.kind == NetWatchKind.sidecarInjector.rawValue) || ($0.type.group == "" && $0.type.kind == "Namespace")
        })
        result.diagnostics += problems
        let injectors = snapshot.sidecarInjectors.map(SidecarInjection.Injector.init)
        if injectors.isEmpty {
            result.diagnostics.append(Diagnostic(.error, message: "no valid SidecarInjector among the inputs or --injectors; nothing would be injected"))
            return result
        }
        var labels: [String: [String: String]] = [:]
        for namespace in snapshot.namespaces { labels[namespace.metadata.name] = namespace.metadata.labels }

        var errors: [String] = []
        for path in loader.files(under: inputs, errors: &errors) {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let documents: [YAMLDocument]
            do {
                documents = try YAMLParser().parse([UInt8](data), file: path)
            } catch {
                result.fileErrors.append(error.description)
                continue
            }
            var output: [Node] = []
            for document in documents {
                output.append(inject(document, file: path, labels: labels, injectors: injectors, report: &result.report))
            }
            do {
                result.files.append(File(path: path, bytes: try YAMLEmitter().emit(documents: output)))
            } catch {
                result.fileErrors.append("\(path): cannot be written back as YAML: \(error)")
            }
        }
        result.fileErrors += errors
        return result
    }

    func inject(_ document: YAMLDocument, file: String, labels: [String: [String: String]], injectors: [SidecarInjection.Injector], report: inout [String]) -> Node {
        let node = document.node
        // A List's items are injected one by one.
        if node["kind"]?.string.map({ $0 == "List" || $0.hasSuffix("List") }) == true, case .mapping(var list) = node, let items = list["items"]?.sequence {
            list["items"] = .sequence(items.map { inject(YAMLDocument(node: $0, file: file, line: document.line, index: document.index), file: file, labels: labels, injectors: injectors, report: &report) })
            return .mapping(list)
        }
        guard let apiVersion = node["apiVersion"]?.string, let kind = node["kind"]?.string else { return node }
        let group = apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : ""
        guard WorkloadInjection.templatePath(group: group, kind: kind) != nil else { return node }
        let namespace = node["metadata"]?["namespace"]?.string ?? "default"
        let name = node["metadata"]?["name"]?.string ?? node["metadata"]?["generateName"]?.string ?? "?"
        let outcome = WorkloadInjection.inject(node, group: group, kind: kind, namespaceLabels: labels[namespace] ?? [:], injectors: injectors,
                                               capabilities: capabilities, operatorNamespace: operatorNamespace)
        let subject = "\(file):\(document.line): \(kind) \(namespace)/\(name)"
        switch outcome {
        case .injected(let mutated, _, let injector):
            report.append("\(subject): injected by \(injector)")
            return mutated
        case .unchanged:
            report.append("\(subject): already injected, unchanged")
        case .skipped(let reason):
            let hint = labels[namespace] == nil && reason == "no injector selects this pod"
                ? " (namespace \(namespace) is not among the inputs, so its labels are unknown; add its Namespace manifest)" : ""
            report.append("\(subject): skipped: \(reason)\(hint)")
        }
        return node
    }
}
