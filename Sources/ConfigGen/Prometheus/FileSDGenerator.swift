import DataTree
public import KubeModel
import NetWatchAPI

/// The targets of one static-discovery job as a Prometheus file_sd JSON document.
///
/// Each pod's targets are encoded once into a line; the lines are kept sorted by namespace and
/// pod name, joined in one buffer that *is* the file, so replacing one pod splices one line
/// and the file is never re-joined or held twice: byte-identical to a full render of the same
/// pods.
public struct FileSDDocument: Sendable, Hashable {
    /// Where a pod's line is: lines are ordered like `entries`, so its offset is the sum of the
    /// lengths (plus separators) before it.
    struct Entry: Sendable, Hashable {
        var namespace: String
        var pod: String
        var length: Int
        var targets: Int
    }

    private static let empty = Array("[]\n".utf8)
    private static let separator = Array(",\n".utf8)

    /// The file: "[]\n", or "[\n" + lines joined by ",\n" + "\n]\n".
    public private(set) var bytes: [UInt8] = FileSDDocument.empty
    private var entries: [Entry] = []
    /// Targets in the file (one per target group).
    public private(set) var targetCount = 0

    public init() {}

    /// Number of pods with targets in this file.
    public var podCount: Int { entries.count }

    /// Target groups in an encoded line: groups are joined by ",\n" and JSON strings never
    /// hold a raw newline, so this is one more than the newlines.
    private static func targets(in line: [UInt8]) -> Int { line.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 } }

    private func position(namespace: String, pod: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            let entry = entries[middle]
            if (entry.namespace, entry.pod) < (namespace, pod) { low = middle + 1 } else { high = middle }
        }
        let found = low < entries.count && entries[low].namespace == namespace && entries[low].pod == pod
        return (low, found)
    }

    /// Byte offset of line `index` in `bytes` (`index == entries.count`: just past the last line).
    /// Counted from the nearer end, so appending (a full render walks pods in order) is O(1).
    private func offset(of index: Int) -> Int {
        guard !entries.isEmpty else { return 2 }
        if index <= entries.count / 2 {
            var offset = 2  // "[\n"
            for entry in entries[..<index] { offset += entry.length + 2 }
            return offset
        }
        var offset = bytes.count - 1  // the last line ends before "\n]\n"; +2 as if a separator followed
        for entry in entries[index...] { offset -= entry.length + 2 }
        return offset
    }

    /// Sets or removes (nil) one pod's encoded targets. Returns whether the document changed.
    @discardableResult
    public mutating func set(namespace: String, pod: String, bytes line: [UInt8]?) -> Bool {
        let (index, found) = position(namespace: namespace, pod: pod)
        switch (found, line) {
        case (true, let line?):
            let start = offset(of: index)
            let old = start..<start + entries[index].length
            guard !bytes[old].elementsEqual(line) else { return false }
            bytes.replaceSubrange(old, with: line)
            targetCount += Self.targets(in: line) - entries[index].targets
            entries[index].length = line.count
            entries[index].targets = Self.targets(in: line)
        case (true, nil):
            let start = offset(of: index)
            let length = entries[index].length
            if entries.count == 1 {
                bytes = Self.empty
            } else if index == 0 {
                bytes.removeSubrange(start..<start + length + 2)  // the line and the separator after it
            } else {
                bytes.removeSubrange(start - 2..<start + length)  // the separator before it and the line
            }
            targetCount -= entries.remove(at: index).targets
        case (false, let line?):
            if entries.isEmpty {
                bytes = Array("[\n".utf8) + line + Array("\n]\n".utf8)
            } else if index < entries.count {
                bytes.insert(contentsOf: line + Self.separator, at: offset(of: index))
            } else {
                bytes.insert(contentsOf: Self.separator + line, at: offset(of: index) - 2)
            }
            let entry = Entry(namespace: namespace, pod: pod, length: line.count, targets: Self.targets(in: line))
            targetCount += entry.targets
            entries.insert(entry, at: index)
        case (false, nil):
            return false
        }
        return true
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

    /// Whether the job scrapes this pod at all (namespace, selector, phase, has an address).
    static func selects(_ pod: Pod, _ targets: ScrapeJob.PodTargets) -> Bool {
        guard let ip = pod.status.podIP, !ip.isEmpty else { return false }
        if targets.filterRunning && pod.status.isTerminated { return false }
        guard targets.namespaces.contains(pod.metadata.namespace ?? "default") else { return false }
        return targets.selector.matches(pod.metadata.labels)
    }

    /// Whether a discovered target is on the job's port: by name, by number, or any (nil).
    static func keeps(_ target: PodDiscoveryLabels.Target, port: IntOrString?) -> Bool {
        switch port {
        case nil: true
        case .string(let name)?: target.port?.name == name
        case .int(let number)?: target.port?.containerPort == number
        }
    }

    /// The pod's encoded target lines for this job, or nil when it contributes none.
    public static func encode(_ pod: Pod, for job: ScrapeJob) -> [UInt8]? {
        guard case .pods(let targets) = job.targets, selects(pod, targets) else { return nil }
        let discovered = PodDiscoveryLabels(pod)
        var out: [UInt8] = []
        var group: [UInt8]?
        for target in discovered.targets where keeps(target, port: targets.port) {
            if !out.isEmpty { out.append(contentsOf: [UInt8(ascii: ","), 0x0A]) }
            if group == nil { group = PodDiscoveryLabels.encode(discovered.groupLabels) }
            PodDiscoveryLabels.writeGroup(address: target.address, group: group ?? [], target: target.labels, into: &out)
        }
        return out.isEmpty ? nil : out
    }

    /// Whether a ServiceMonitor job looks at this slice: its namespace is in scope and its
    /// Service's labels (none without a Service) match the selector. The rest of the selection
    /// (ports, running pods) stays in the job's relabel rules, identical in both discovery modes.
    static func selects(_ slice: EndpointSlice, service: Service?, _ targets: ScrapeJob.ServiceTargets) -> Bool {
        guard targets.namespaces.contains(slice.metadata.namespace ?? "default") else { return false }
        return targets.selector.matches(service?.metadata.labels ?? [:])
    }

    /// The slice's encoded target lines for a ServiceMonitor job, or nil when it contributes none.
    static func encode(_ slice: EndpointSlice, service: Service?, pod: (String, String) -> Pod?, for job: ScrapeJob) -> [UInt8]? {
        guard case .services(let targets) = job.targets, selects(slice, service: service, targets) else { return nil }
        let discovered = EndpointSliceDiscoveryLabels(slice, service: service, pod: pod)
        return lines(group: discovered.groupLabels, targets: discovered.targets.map { ($0.address, $0.labels) })
    }

    /// One object's target lines: each target with the shared group labels; nil for none.
    static func lines(group labels: [(String, String)], targets: [(address: String, labels: [(String, String)])]) -> [UInt8]? {
        let group = PodDiscoveryLabels.encode(labels)
        var out: [UInt8] = []
        for target in targets {
            if !out.isEmpty { out.append(contentsOf: [UInt8(ascii: ","), 0x0A]) }
            PodDiscoveryLabels.writeGroup(address: target.address, group: group, target: target.labels, into: &out)
        }
        return out.isEmpty ? nil : out
    }
}

extension FileSDGenerator {
    /// Whether an Ingress probe job looks at this Ingress: its namespace is in scope and its
    /// labels match the selector (Kubernetes discovery does the same with relabel rules).
    static func selects(_ ingress: Ingress, _ targets: ScrapeJob.IngressTargets) -> Bool {
        targets.namespaces.contains(ingress.metadata.namespace ?? "default") && targets.selector.matches(ingress.metadata.labels)
    }

    /// The Ingress's encoded target lines for an Ingress probe job, or nil when it contributes none.
    static func encode(_ ingress: Ingress, for job: ScrapeJob) -> [UInt8]? {
        guard case .ingresses(let targets) = job.targets, selects(ingress, targets) else { return nil }
        let discovered = IngressDiscoveryLabels(ingress)
        return lines(group: discovered.groupLabels, targets: discovered.targets.map { ($0.address, $0.labels) })
    }
}

extension FileSDGenerator {
    /// The Node's encoded target line for a node job, or nil when it has no address.
    static func encode(_ node: ClusterNode, for job: ScrapeJob) -> [UInt8]? {
        guard case .nodes = job.targets else { return nil }
        let discovered = NodeDiscoveryLabels(node)
        guard let target = discovered.target else { return nil }
        return lines(group: discovered.groupLabels, targets: [target])
    }
}
