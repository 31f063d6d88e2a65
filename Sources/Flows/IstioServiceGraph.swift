public import DataTree

/// The service graph Istio's telemetry already holds: one Prometheus query over the learning
/// window of `istio_tcp_connections_opened_total` and `istio_requests_total`, reported by the
/// client's sidecar (so each connection is counted once), turned into connections whose ends
/// are identities, not addresses.
///
/// Istio's standard metrics carry no port. A destination Service becomes a connection with port
/// 0, "every port of the Service", which `EdgeBuilder` resolves through the Service's ports to
/// their targetPorts once the Services are known; a `destination_port` label (added with the
/// Telemetry API's tagOverrides) is used when present. Series with nothing to allow are
/// skipped and counted: an unknown client (no sidecar, no peer metadata), Istio's passthrough
/// and black-hole clusters (outside addresses Istio does not report), and no increase.
public enum IstioServiceGraph {
    static let grouping = "source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, "
        + "destination_service_name, destination_service_namespace, destination_port"

    /// The PromQL query for a window (a Prometheus duration such as `24h`).
    public static func query(window: String) -> String {
        """
        sum by (\(grouping)) (increase(istio_tcp_connections_opened_total{reporter="source"}[\(window)])) \
        or sum by (\(grouping)) (increase(istio_requests_total{reporter="source"}[\(window)]))
        """
    }

    public struct Decoded: Sendable {
        public var connections: [ObservedConnection] = []
        public var skipped = 0
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    static let notServices: Set<String> = ["PassthroughCluster", "BlackHoleCluster", "InboundPassthroughClusterIpv4", "InboundPassthroughClusterIpv6", "unknown", ""]

    /// Connections from a `/api/v1/query` response; `end` is the evaluation time and `windowMilliseconds`
    /// the window (first and last seen span it: the metric says only that the edge was used in it).
    public static func decode(_ response: Node, end: Int64, windowMilliseconds: Int64) -> Result<Decoded, Problem> {
        guard response["status"]?.string == "success" else {
            let message = response["error"]?.string ?? "status is \(response["status"]?.string ?? "missing")"
            return .failure(Problem(message: "Prometheus answered with an error: \(message)"))
        }
        guard response["data"]?["resultType"]?.string == "vector", let result = response["data"]?["result"]?.sequence else {
            return .failure(Problem(message: "expected an instant vector in data.result"))
        }
        var decoded = Decoded()
        for series in result {
            let labels = series["metric"]?.stringValues ?? [:]
            guard let sample = series["value"]?.sequence, sample.count == 2, let text = sample[1].string, let value = Double(text), value > 0,
                  let clientName = labels["source_workload"], clientName != "unknown", !clientName.isEmpty,
                  let clientNamespace = labels["source_workload_namespace"], clientNamespace != "unknown", !clientNamespace.isEmpty
            else {
                decoded.skipped += 1
                continue
            }
            let server: ReportedIdentity
            if let service = labels["destination_service_name"], !notServices.contains(service),
               let namespace = labels["destination_service_namespace"], !notServices.contains(namespace) {
                server = .service(namespace: namespace, name: service)
            } else if let workload = labels["destination_workload"], !notServices.contains(workload),
                      let namespace = labels["destination_workload_namespace"], !notServices.contains(namespace),
                      labels["destination_port"] != nil {
                server = .workload(WorkloadReference(namespace: namespace, kind: "", name: workload), labels: [:])
            } else {
                decoded.skipped += 1
                continue
            }
            let port = labels["destination_port"].flatMap { UInt16($0) } ?? 0
            let flows = value >= Double(Int.max) ? Int.max : max(1, Int(value.rounded(.up)))
            decoded.connections.append(ObservedConnection(
                key: .init(client: ObservedConnection.Key.unknownAddress, server: ObservedConnection.Key.unknownAddress, serverPort: port, transport: .tcp),
                firstSeen: end - windowMilliseconds, lastSeen: end, flows: flows, source: "istio",
                clientIdentity: .workload(WorkloadReference(namespace: clientNamespace, kind: "", name: clientName), labels: [:]),
                serverIdentity: server))
        }
        decoded.connections.sort { ($0.clientIdentity.map(ConnectionLines.sortKey) ?? "", $0.serverIdentity.map(ConnectionLines.sortKey) ?? "", $0.key.serverPort)
            < ($1.clientIdentity.map(ConnectionLines.sortKey) ?? "", $1.serverIdentity.map(ConnectionLines.sortKey) ?? "", $1.key.serverPort) }
        return .success(decoded)
    }
}
