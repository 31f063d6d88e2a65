/// A `discovery.k8s.io/v1` EndpointSlice: the fields Prometheus's endpointslice and endpoints
/// discovery read, so static discovery can resolve ServiceMonitors the way Prometheus does.
public struct EndpointSlice: Sendable, Hashable, Decodable {
    public struct Conditions: Sendable, Hashable, Decodable {
        public var ready: Bool?
        public var serving: Bool?
        public var terminating: Bool?

        public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
            self.ready = ready
            self.serving = serving
            self.terminating = terminating
        }
    }

    /// `targetRef`: what an endpoint stands for (a Pod, usually).
    public struct TargetReference: Sendable, Hashable, Decodable {
        public var kind: String?
        public var name: String?
        public var namespace: String?

        public init(kind: String? = nil, name: String? = nil, namespace: String? = nil) {
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }
    }

    public struct Endpoint: Sendable, Hashable, Decodable {
        public var addresses: [String]
        public var conditions: Conditions?
        public var hostname: String?
        public var nodeName: String?
        public var zone: String?
        public var targetRef: TargetReference?

        public init(addresses: [String], conditions: Conditions? = nil, hostname: String? = nil, nodeName: String? = nil,
                    zone: String? = nil, targetRef: TargetReference? = nil) {
            self.addresses = addresses
            self.conditions = conditions
            self.hostname = hostname
            self.nodeName = nodeName
            self.zone = zone
            self.targetRef = targetRef
        }

        private enum CodingKeys: String, CodingKey { case addresses, conditions, hostname, nodeName, zone, targetRef }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            addresses = try container.decodeIfPresent([String].self, forKey: .addresses) ?? []
            conditions = try container.decodeIfPresent(Conditions.self, forKey: .conditions)
            hostname = try container.decodeIfPresent(String.self, forKey: .hostname)
            nodeName = try container.decodeIfPresent(String.self, forKey: .nodeName)
            zone = try container.decodeIfPresent(String.self, forKey: .zone)
            targetRef = try container.decodeIfPresent(TargetReference.self, forKey: .targetRef)
        }
    }

    public struct Port: Sendable, Hashable, Decodable {
        public var name: String?
        /// nil: every port (Prometheus then writes the bare address).
        public var port: Int?
        public var `protocol`: String?
        public var appProtocol: String?

        public init(name: String? = nil, port: Int? = nil, protocol: String? = nil, appProtocol: String? = nil) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
            self.appProtocol = appProtocol
        }
    }

    /// The label linking a slice to its Service.
    public static let serviceNameLabel = "kubernetes.io/service-name"

    public var metadata: ObjectMeta
    /// `IPv4`, `IPv6` or `FQDN`.
    public var addressType: String
    public var endpoints: [Endpoint]
    public var ports: [Port]

    public init(metadata: ObjectMeta, addressType: String = "IPv4", endpoints: [Endpoint] = [], ports: [Port] = []) {
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    private enum CodingKeys: String, CodingKey { case metadata, addressType, endpoints, ports }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        addressType = try container.decodeIfPresent(String.self, forKey: .addressType) ?? "IPv4"
        endpoints = try container.decodeIfPresent([Endpoint].self, forKey: .endpoints) ?? []
        ports = try container.decodeIfPresent([Port].self, forKey: .ports) ?? []
    }

    /// The Service this slice belongs to, from its `kubernetes.io/service-name` label.
    public var serviceName: String? { metadata.labels[Self.serviceNameLabel] }
}
