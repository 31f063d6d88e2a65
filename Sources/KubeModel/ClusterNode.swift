/// A core/v1 Node: the fields Prometheus's node discovery reads, so the kubelet and cAdvisor are
/// scraped the same way under static discovery as under Kubernetes discovery. (`Node` is
/// DataTree's document type, hence the name.)
public struct ClusterNode: Sendable, Hashable, Decodable {
    public struct Address: Sendable, Hashable, Decodable {
        /// `InternalIP`, `InternalDNS`, `ExternalIP`, `ExternalDNS`, `Hostname`, …
        public var type: String
        public var address: String

        public init(type: String, address: String) {
            self.type = type
            self.address = address
        }
    }

    public struct Condition: Sendable, Hashable, Decodable {
        public var type: String
        public var status: String

        public init(type: String, status: String) {
            self.type = type
            self.status = status
        }
    }

    public var metadata: ObjectMeta
    public var providerID: String
    public var addresses: [Address]
    public var conditions: [Condition]
    /// `status.daemonEndpoints.kubeletEndpoint.Port` (0 when absent, as Go reads it).
    public var kubeletPort: Int

    public init(metadata: ObjectMeta, providerID: String = "", addresses: [Address] = [], conditions: [Condition] = [], kubeletPort: Int = 10250) {
        self.metadata = metadata
        self.providerID = providerID
        self.addresses = addresses
        self.conditions = conditions
        self.kubeletPort = kubeletPort
    }

    private enum CodingKeys: String, CodingKey { case metadata, spec, status }
    private enum SpecKeys: String, CodingKey { case providerID }
    private enum StatusKeys: String, CodingKey { case addresses, conditions, daemonEndpoints }
    private enum EndpointsKeys: String, CodingKey { case kubeletEndpoint }
    private enum PortKeys: String, CodingKey { case port = "Port" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        providerID = ""
        addresses = []
        conditions = []
        kubeletPort = 0
        if container.contains(.spec) {
            providerID = try container.nestedContainer(keyedBy: SpecKeys.self, forKey: .spec).decodeIfPresent(String.self, forKey: .providerID) ?? ""
        }
        guard container.contains(.status) else { return }
        let status = try container.nestedContainer(keyedBy: StatusKeys.self, forKey: .status)
        addresses = try status.decodeIfPresent([Address].self, forKey: .addresses) ?? []
        conditions = try status.decodeIfPresent([Condition].self, forKey: .conditions) ?? []
        if status.contains(.daemonEndpoints) {
            let endpoints = try status.nestedContainer(keyedBy: EndpointsKeys.self, forKey: .daemonEndpoints)
            if endpoints.contains(.kubeletEndpoint) {
                kubeletPort = try endpoints.nestedContainer(keyedBy: PortKeys.self, forKey: .kubeletEndpoint).decodeIfPresent(Int.self, forKey: .port) ?? 0
            }
        }
    }

    /// The address Prometheus scrapes the kubelet at: the first address of the first type
    /// present in `InternalIP, InternalDNS, ExternalIP, ExternalDNS, LegacyHostIP, Hostname`
    /// (node.go `nodeAddress`); nil when there is none.
    public var preferredAddress: String? {
        for type in ["InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"] {
            if let address = addresses.first(where: { $0.type == type }) { return address.address }
        }
        return nil
    }
}
