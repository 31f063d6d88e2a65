/// Which network devices node-level alerts and dashboards leave out by default: the loopback,
/// container veths and the devices container networking plugins create — whose traffic is also
/// counted on a physical device, or is pod traffic the per-pod views show — so "node traffic"
/// means the node's real interfaces and CNI devices never raise node alerts.
///
/// Physical, bond, VLAN, InfiniBand and wireless devices (`eth0`, `ens3`, `enp0s31f6`, `eno1`,
/// `bond0`, `bond0.100`, `eth0.42`, `ib0`, `wlan0`) are kept; a test checks every example below
/// against the regex, excluded and kept alike.
public enum NetworkDevices {
    /// One family of devices: who creates them, the pattern (RE2, anchored by Prometheus), and
    /// names seen in real clusters.
    public struct Family: Sendable, Hashable {
        public var creator: String
        public var pattern: String
        public var examples: [String]
    }

    public static let excludedFamilies: [Family] = [
        Family(creator: "loopback", pattern: "lo", examples: ["lo"]),
        Family(creator: "container veth pairs (Docker, containerd bridge, flannel, kindnet, Weave)", pattern: "veth.*", examples: ["veth1a2b3c4", "vethwe-bridge"]),
        Family(creator: "Docker", pattern: "docker.*|br-.*", examples: ["docker0", "br-3f9a2b1c4d5e"]),
        Family(creator: "generic CNI bridges and overlays", pattern: "cni.*|vxlan.*|geneve.*|tunl[0-9]+", examples: ["cni0", "vxlan.calico", "vxlan-6784", "geneve0", "tunl0"]),
        Family(creator: "Calico", pattern: "cali.*|wireguard\\.cali", examples: ["cali7d9e2a1b3c4", "wireguard.cali"]),
        Family(creator: "Cilium", pattern: "lxc.*|cilium_.*", examples: ["lxc1a2b3c4d5e6f", "lxc_health", "cilium_host", "cilium_net", "cilium_vxlan", "cilium_wg0"]),
        Family(creator: "flannel", pattern: "flannel.*", examples: ["flannel.1", "flannel-wg"]),
        Family(creator: "Weave Net", pattern: "weave|datapath", examples: ["weave", "datapath"]),
        Family(creator: "Antrea", pattern: "antrea-.*", examples: ["antrea-gw0", "antrea-tun0"]),
        Family(creator: "OVN-Kubernetes and Open vSwitch", pattern: "ovn-k8s-.*|ovs-system|genev_sys_.*|br-int|[0-9a-f]{15}",
               examples: ["ovn-k8s-mp0", "ovs-system", "genev_sys_6081", "br-int", "a1b2c3d4e5f6a7b"]),
        Family(creator: "kube-proxy (IPVS), kube-router, NodeLocal DNSCache", pattern: "kube-ipvs[0-9]+|kube-bridge|kube-dummy-if|nodelocaldns",
               examples: ["kube-ipvs0", "kube-bridge", "kube-dummy-if", "nodelocaldns"]),
        Family(creator: "AWS VPC CNI, GKE, Azure CNI", pattern: "eni[0-9a-f]{11,}|gke[0-9a-f]{10,}|azv.*", examples: ["eni3f9a2b1c4d5", "gke1a2b3c4d5e6", "azv1a2b3c4d5e6"]),
    ]

    /// Names that must stay: physical, bond, VLAN, InfiniBand and wireless devices.
    public static let keptExamples = ["eth0", "ens3", "enp0s31f6", "eno1", "em1", "p1p1", "bond0", "bond0.100", "eth0.42", "ib0", "wlan0", "br0"]

    /// The default `excludeDevices` regex of the node-network pack and dashboards.
    public static let defaultExclusion = excludedFamilies.map(\.pattern).joined(separator: "|")
}
