import DataTree
public import KubeModel
import NetWatchAPI

/// The targets of one static-discovery job as a Prometheus file_sd JSON document.
///
/// Each pod's targets are encoded once and kept as a line, sorted by namespace and pod name, so
/// replacing one pod re-encodes one line and the file is the lines joined: byte-identical to a
/// full render of the same pods.
public struct FileSDDocument: Sendable, Hashable {
    struct Line: Sendable, Hashable {
        var namespace: String
        var pod: String
        var bytes: [UInt8]
        /// Target groups in `bytes`: groups are joined by ",\n" and JSON strings never hold a
        /// raw newline, so this is one more than the newlines.
        var targets: Int { bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 } }
    }

    private(set) var lines: [Line] = []
    /// Targets in the file (one per target group).
    public private(set) var targetCount = 0

    public init() {}

    /// Number of pods with targets in this file.
    public var podCount: Int { lines.count }

    private func position(namespace: String, pod: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = lines.count
        while low < high {
            let middle = (low + high) / 2
            let line = lines[middle]
            if (line.namespace, line.pod) < (namespace, pod) { low = middle + 1 } else { high = middle }
        }
        let found = low < lines.count && lines[low].namespace == namespace && lines[low].pod == pod
        return (low, found)
    }

    /// Sets or removes (nil) one pod's encoded targets. Returns whether the document changed.
    @discardableResult
    public mutating func set(namespace: String, pod: String, bytes: [UInt8]?) -> Bool {
        let (index, found) = position(namespace: namespace, pod: pod)
        switch (found, bytes) {
        case (true, let bytes?):
            guard lines[index].bytes != bytes else { return false }
            targetCount -= lines[index].targets
            lines[index].bytes = bytes
            targetCount += lines[index].targets
        case (true, nil):
            targetCount -= lines.remove(at: index).targets
        case (false, let bytes?):
            let line = Line(namespace: namespace, pod: pod, bytes: bytes)
            targetCount += line.targets
            lines.insert(line, at: index)
        case (false, nil):
            return false
        }
        return true
    }

    /// The file: a JSON array with one target group per line.
    public var bytes: [UInt8] {
        guard !lines.isEmpty else { return Array("[]\n".utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(lines.reduce(4) { $0 + $1.bytes.count + 2 })
        out.append(contentsOf: [UInt8(ascii: "["), 0x0A])
        for (index, line) in lines.enumerated() {
            if index > 0 { out.append(contentsOf: [UInt8(ascii: ","), 0x0A]) }
            out.append(contentsOf: line.bytes)
        }
        out.append(contentsOf: [0x0A, UInt8(ascii: "]"), 0x0A])
        return out
    }
}

/// Resolves a static-discovery job's pods into file_sd target groups carrying the same
/// `__meta_kubernetes_*` labels Prometheus's Kubernetes discovery would attach, so the job's
/// relabel rules (and the user's) give the same target labels under both discovery modes.
public enum FileSDGenerator {
    /// `file_sd/<stem>.json`, relative to prometheus.yml.
    public static func relativePath(_ job: ScrapeJob) -> String {
        "file_sd/\(job.fileStem).json"
    }

    /// Whether the job scrapes this pod at all (namespace, selector, running, has an address).
    static func selects(_ pod: Pod, _ targets: ScrapeJob.PodTargets) -> Bool {
        guard !pod.status.isTerminated, pod.status.primaryIP != nil else { return false }
        guard targets.namespaces.contains(pod.metadata.namespace ?? "default") else { return false }
        return targets.selector.matches(pod.metadata.labels)
    }

    /// The pod's encoded target lines for this job, or nil when it contributes none.
    public static func encode(_ pod: Pod, for job: ScrapeJob) -> [UInt8]? {
        guard case .pods(let targets) = job.targets, selects(pod, targets), let ip = pod.status.primaryIP else { return nil }
        let host = ip.contains(":") ? "[\(ip)]" : ip
        let sidecars = pod.spec.initContainers.filter { $0.restartPolicy == "Always" }
        var podLabels: [(String, String)] = []
        var seen: Set<String> = []
        for key in pod.metadata.labels.keys.sorted() {
            let name = "__meta_kubernetes_pod_label_" + LabelSanitizer.sanitize(key)
            if seen.insert(name).inserted { podLabels.append((name, pod.metadata.labels[key] ?? "")) }
        }
        var out: [UInt8] = []
        for container in pod.spec.containers + sidecars {
            for port in container.ports {
                switch targets.port {
                case .string(let name) where port.name == name: break
                case .int(let number) where port.containerPort == number: break
                default: continue
                }
                var labels: [(String, String)] = podLabels
                labels.append(("__meta_kubernetes_namespace", pod.metadata.namespace ?? "default"))
                labels.append(("__meta_kubernetes_pod_container_name", container.name))
                if let name = port.name { labels.append(("__meta_kubernetes_pod_container_port_name", name)) }
                labels.append(("__meta_kubernetes_pod_container_port_number", String(port.containerPort)))
                labels.append(("__meta_kubernetes_pod_container_port_protocol", port.protocol))
                labels.append(("__meta_kubernetes_pod_ip", ip))
                labels.append(("__meta_kubernetes_pod_name", pod.metadata.name))
                if let node = pod.spec.nodeName { labels.append(("__meta_kubernetes_pod_node_name", node)) }
                if let phase = pod.status.phase { labels.append(("__meta_kubernetes_pod_phase", phase)) }
                labels.sort { $0.0 < $1.0 }
                if !out.isEmpty { out.append(contentsOf: [UInt8(ascii: ","), 0x0A]) }
                out.append(contentsOf: Array(#"{"targets":["#.utf8))
                JSONEmitter.writeString("\(host):\(port.containerPort)", into: &out)
                out.append(contentsOf: Array(#"],"labels":{"#.utf8))
                for (index, (name, value)) in labels.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    JSONEmitter.writeString(name, into: &out)
                    out.append(UInt8(ascii: ":"))
                    JSONEmitter.writeString(value, into: &out)
                }
                out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "}")])
            }
        }
        return out.isEmpty ? nil : out
    }
}
