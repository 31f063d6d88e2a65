import DataTree
import KubeModel
import NetWatchAPI

/// Wraps a stack's Prometheus files into the Kubernetes objects that carry them in-cluster:
/// the configuration in a ConfigMap or Secret (gzipped above the threshold), and file_sd files
/// in ConfigMaps of at most `configMapBudget` bytes each, and rule files in ConfigMaps of at most
/// `ruleConfigMapBudget` bytes each, both packed first-fit in name order.
struct KubernetesPackaging {
    let stack: MonitoringStack
    let options: RenderOptions

    static let managedByLabels: [String: String] = ["app.kubernetes.io/managed-by": "netwatch"]

    /// nil when the stack writes to a directory (no in-cluster object).
    var outputObjectName: String? {
        switch stack.spec.prometheus.output {
        case .configMap(let name)?, .secret(let name)?: name
        case .directory?: nil
        case nil: "\(stack.name)-prometheus"
        }
    }

    var outputKind: String {
        if case .secret? = stack.spec.prometheus.output { return "Secret" }
        return "ConfigMap"
    }

    var labels: [String: String] {
        Self.managedByLabels.merging(["netwatch.dev/stack": stack.name]) { first, _ in first }
    }

    func metadata(_ name: String) -> Node {
        ["name": .string(name), "namespace": .string(stack.namespace), "labels": .sortedStringMap(labels)]
    }

    func manifests(for files: [Renderer.File]) -> ([Manifest], [Diagnostic]) {
        guard let name = outputObjectName else { return ([], []) }
        var manifests: [Manifest] = []
        var diagnostics: [Diagnostic] = []
        let configs = files.filter { $0.role == .prometheusConfig }
        let total = configs.reduce(0) { $0 + $1.bytes.count }
        let compress = total > options.compressionThreshold
        var data = Mapping()
        var binaryData = Mapping()
        let isSecret = outputKind == "Secret"
        for file in configs {
            if compress {
                let key = file.name + ".gz"
                if isSecret { data[key] = .string(Base64.encode(Gzip.compress(file.bytes))) } else { binaryData[key] = .string(Base64.encode(Gzip.compress(file.bytes))) }
            } else if isSecret {
                data[file.name] = .string(Base64.encode(file.bytes))
            } else {
                data[file.name] = .string(String(decoding: file.bytes, as: UTF8.self))
            }
        }
        var object = Mapping()
        object["apiVersion"] = "v1"
        object["kind"] = .string(outputKind)
        object["metadata"] = metadata(name)
        if isSecret { object["type"] = "Opaque" }
        if !data.isEmpty { object["data"] = .mapping(data) }
        if !binaryData.isEmpty { object["binaryData"] = .mapping(binaryData) }
        manifests.append(Manifest(file: "\(outputKind.lowercased())-\(name).yaml", node: .mapping(object)))

        // blackbox_exporter's modules: one ConfigMap `<name>-blackbox`, mounted by the prober.
        if let modules = files.first(where: { $0.role == .proberConfig }) {
            let node: Node = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata("\(name)-blackbox"),
                              "data": .mapping(Mapping([(modules.name, .string(String(decoding: modules.bytes, as: UTF8.self)))]))]
            manifests.append(Manifest(file: "configmap-\(name)-blackbox.yaml", node: node))
        }

        // file_sd files: bucketed into ConfigMaps `<name>-file-sd-<i>`, mounted together through
        // one projected volume so Prometheus sees a single file_sd directory.
        manifests += bucketed(files.filter { $0.role == .fileSD }, prefix: "file_sd/", object: "\(name)-file-sd", budget: options.configMapBudget,
                              field: "spec.prometheus.discovery", advice: "Use discovery: kubernetes or output: {directory: ...} for jobs this large", diagnostics: &diagnostics)
        // Rule files: `<name>-rules-<i>`, the same way. The applier writes new objects before it
        // deletes old ones, so Prometheus never sees a rule file missing.
        manifests += bucketed(files.filter { $0.role == .ruleFile }, prefix: "rules/", object: "\(name)-rules", budget: options.ruleConfigMapBudget,
                              field: "spec.alertSelector", advice: "Split the NetworkAlerts object", diagnostics: &diagnostics)
        return (manifests, diagnostics)
    }

    /// Files packed first-fit (in name order) into ConfigMaps `<object>-<i>` of at most
    /// `budget` bytes of data; a file too large for any ConfigMap is a diagnostic.
    func bucketed(_ files: [Renderer.File], prefix: String, object: String, budget: Int, field: String, advice: String, diagnostics: inout [Diagnostic]) -> [Manifest] {
        let (buckets, oversized) = plan(files, budget: budget)
        for file in oversized {
            diagnostics.append(Diagnostic(.error, object: ObjectReference(kind: "MonitoringStack", namespace: stack.namespace, name: stack.name),
                source: stack.source, field: field,
                message: "\(file.name) is \(file.bytes.count) bytes, too large for a ConfigMap (1 MiB); it is only written to the output directory. \(advice)"))
        }
        return buckets.enumerated().map { index, bucket in encode(bucket, prefix: prefix, objectName: "\(object)-\(index)") }
    }

    /// Which files go into which ConfigMap (first-fit in name order by size), and the files too
    /// large for any. Sizes alone decide it, so it is cheap to compute again.
    func plan(_ files: [Renderer.File], budget: Int) -> (buckets: [[Renderer.File]], oversized: [Renderer.File]) {
        var buckets: [[Renderer.File]] = []
        var sizes: [Int] = []
        var oversized: [Renderer.File] = []
        for file in files.sorted(by: { $0.name < $1.name }) {
            let size = file.bytes.count
            if size > max(budget, options.configMapBudget * 2 - 4096) {
                oversized.append(file)
                continue
            }
            if let index = sizes.firstIndex(where: { $0 + size <= budget }) {
                buckets[index].append(file)
                sizes[index] += size
            } else {
                buckets.append([file])
                sizes.append(size)
            }
        }
        return (buckets, oversized)
    }

    /// One ConfigMap of a bucket.
    func encode(_ bucket: [Renderer.File], prefix: String, objectName: String) -> Manifest {
        var data = Mapping()
        for file in bucket {
            data.appendUnchecked(String(file.name.dropFirst(prefix.count)), .string(String(decoding: file.bytes, as: UTF8.self)))
        }
        let node: Node = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(objectName), "data": .mapping(data)]
        return Manifest(file: "configmap-\(objectName).yaml", node: node)
    }

    /// The file_sd ConfigMaps again after `changed` file_sd files changed size or content: when
    /// the files still fall into the same ConfigMaps as in `before` (and none is too large),
    /// only the ConfigMaps holding a changed file are encoded again — the same bytes
    /// `manifests(for:)` gives, without re-encoding the configuration or the others. Nil when
    /// the packing changed; then call `manifests(for:)`.
    func refreshedFileSD(before: [Renderer.File], after: [Renderer.File], changed: Set<String>,
                         manifests: [Manifest]) -> [Manifest]? {
        guard let name = outputObjectName else { return manifests }
        let old = plan(before.filter { $0.role == .fileSD }, budget: options.configMapBudget)
        let new = plan(after.filter { $0.role == .fileSD }, budget: options.configMapBudget)
        guard old.oversized.isEmpty, new.oversized.isEmpty, old.buckets.map({ $0.map(\.name) }) == new.buckets.map({ $0.map(\.name) }) else { return nil }
        var result = manifests
        for (index, bucket) in new.buckets.enumerated() where bucket.contains(where: { changed.contains($0.name) }) {
            let encoded = encode(bucket, prefix: "file_sd/", objectName: "\(name)-file-sd-\(index)")
            guard let position = result.firstIndex(where: { $0.file == encoded.file }) else { return nil }
            result[position] = encoded
        }
        return result
    }
}
