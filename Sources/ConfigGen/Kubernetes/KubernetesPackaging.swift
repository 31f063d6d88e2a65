import DataTree
import KubeModel
import NetWatchAPI

/// Wraps a stack's Prometheus files into the Kubernetes objects that carry them in-cluster:
/// the configuration in a ConfigMap or Secret (gzipped above the threshold), and file_sd files
/// in ConfigMaps of at most `configMapBudget` bytes each, packed first-fit in name order.
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

    func manifests(for files: [Renderer.File]) -> ([(name: String, bytes: [UInt8])], [Diagnostic]) {
        guard let name = outputObjectName else { return ([], []) }
        var manifests: [(String, [UInt8])] = []
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
        manifests.append(("\(outputKind.lowercased())-\(name).yaml", emitYAML(.mapping(object))))

        // file_sd files: bucketed into ConfigMaps `<name>-file-sd-<i>`, mounted together through
        // one projected volume so Prometheus sees a single file_sd directory.
        let targetFiles = files.filter { $0.role == .fileSD }.sorted { $0.name < $1.name }
        var buckets: [[Renderer.File]] = []
        var sizes: [Int] = []
        for file in targetFiles {
            let size = file.bytes.count
            if size > options.configMapBudget * 2 - 4096 {
                diagnostics.append(Diagnostic(.error, object: ObjectReference(kind: "MonitoringStack", namespace: stack.namespace, name: stack.name),
                    source: stack.source, field: "spec.prometheus.discovery",
                    message: "\(file.name) is \(size) bytes, too large for a ConfigMap (1 MiB); it is only written to the output directory. Use discovery: kubernetes or output: {directory: ...} for jobs this large"))
                continue
            }
            if let index = sizes.firstIndex(where: { $0 + size <= options.configMapBudget }) {
                buckets[index].append(file)
                sizes[index] += size
            } else {
                buckets.append([file])
                sizes.append(size)
            }
        }
        for (index, bucket) in buckets.enumerated() {
            var data = Mapping()
            for file in bucket {
                let key = String(file.name.dropFirst("file_sd/".count))
                data.appendUnchecked(key, .string(String(decoding: file.bytes, as: UTF8.self)))
            }
            let objectName = "\(name)-file-sd-\(index)"
            let object: Node = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(objectName), "data": .mapping(data)]
            manifests.append(("configmap-\(objectName).yaml", emitYAML(object)))
        }
        return (manifests, diagnostics)
    }
}
