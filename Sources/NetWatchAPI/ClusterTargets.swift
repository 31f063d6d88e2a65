/// Cluster components a MonitoringStack scrapes besides its monitors: the kubelet, its
/// cAdvisor (per-pod CPU, memory and network counters, with nothing injected into pods), the
/// API server and CoreDNS — with the in-cluster TLS and token settings they need.
public struct ClusterTargets: Sendable, Hashable, Decodable {
    public var kubelet: Bool
    public var cadvisor: Bool
    public var apiServer: Bool
    public var coreDNS: Bool

    public init(kubelet: Bool = false, cadvisor: Bool = false, apiServer: Bool = false, coreDNS: Bool = false) {
        self.kubelet = kubelet
        self.cadvisor = cadvisor
        self.apiServer = apiServer
        self.coreDNS = coreDNS
    }

    private enum CodingKeys: String, CodingKey { case kubelet, cadvisor, apiServer, coreDNS }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kubelet = try container.decodeIfPresent(Bool.self, forKey: .kubelet) ?? false
        cadvisor = try container.decodeIfPresent(Bool.self, forKey: .cadvisor) ?? false
        apiServer = try container.decodeIfPresent(Bool.self, forKey: .apiServer) ?? false
        coreDNS = try container.decodeIfPresent(Bool.self, forKey: .coreDNS) ?? false
    }

    public var any: Bool { kubelet || cadvisor || apiServer || coreDNS }
}
