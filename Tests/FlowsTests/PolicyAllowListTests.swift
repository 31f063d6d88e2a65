import Flows
import KubeModel
import Testing

@Suite("netwatch policy check allow list")
struct PolicyAllowListTests {
    static let web = Peer.workload(WorkloadReference(namespace: "shop", kind: "Deployment", name: "web"))
    static let api = Peer.workload(WorkloadReference(namespace: "shop", kind: "StatefulSet", name: "api-db"))
    static let outside = Peer.external(IPAddress("203.0.113.9")!)

    @Test("ends: *, namespace/name, namespace/kind/name with wildcards, world, node, apiserver, addresses and CIDRs; ports and protocols")
    func matching() {
        let (list, problems) = PolicyAllowList.parse("""
            # comment
            shop/web -> shop/api-* 5432/TCP   # trailing comment
            shop/Deployment/w* -> world 443
            */* -> 203.0.113.0/24 8000-8100/udp
            * -> apiserver
            """)
        #expect(problems.isEmpty, "\(problems)")
        #expect(list.entries.map(\.line) == [2, 3, 4, 5])
        #expect(list.entry(accepting: Self.web, Self.api, port: 5432, transport: .tcp)?.line == 2)
        #expect(list.entry(accepting: Self.web, Self.api, port: 5432, transport: .udp) == nil, "the protocol is part of the entry")
        #expect(list.entry(accepting: Self.web, Self.api, port: 5433, transport: .tcp) == nil)
        #expect(list.entry(accepting: Self.web, Self.api, port: nil, transport: .tcp) == nil, "an unresolved named port matches only entries without a port")
        #expect(list.entry(accepting: Self.web, Self.outside, port: 443, transport: .tcp)?.line == 3)
        #expect(list.entry(accepting: Self.api, Self.outside, port: 443, transport: .tcp) == nil, "the kind is matched")
        #expect(list.entry(accepting: Self.api, Self.outside, port: 8080, transport: .udp)?.line == 4)
        #expect(list.entry(accepting: Self.api, Self.outside, port: 8080, transport: .tcp) == nil)
        #expect(list.entry(accepting: Self.api, .apiServer(IPAddress("10.0.0.1")!), port: nil, transport: .tcp)?.line == 5)
        #expect(list.entry(accepting: Self.api, .node("n1", IPAddress("10.0.0.2")!), port: 22, transport: .tcp) == nil)
    }

    @Test("bad lines are reported with line and column; the good ones are kept")
    func problems() {
        let (list, problems) = PolicyAllowList.parse("shop/web -> shop/api\n  shop/web => shop/api\nshop/ -> x/y\nshop/web -> a/b 0\nshop/web -> a/b 80/ICMP\n")
        #expect(list.entries.count == 1)
        #expect(PolicyAllowList.parse("a/b -> c/d\r\ne/f -> g/h 80\r\n").0.entries.map(\.line) == [1, 2], "Windows line ends")
        #expect(problems.map(\.description) == [
            "2:3: expected CLIENT -> SERVER [PORT[/PROTOCOL]], e.g. jobs/batch -> shop/api 8080/TCP",
            "3:1: \"shop/\" is not an end: use *, NAMESPACE/NAME, NAMESPACE/KIND/NAME, world, node, apiserver, or an address or CIDR",
            "4:17: port must be *, a number 1-65535 or a range such as 8000-8100, optionally with /TCP, /UDP or /SCTP",
            "5:20: protocol must be TCP, UDP or SCTP",
        ])
    }

    @Test("fuzz: any text parses without trapping; every non-blank, non-comment line is an entry or a problem")
    func fuzz() {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("ab/*-> \t#0123456789.:→,TCPUDP\r\n".unicodeScalars)
        for _ in 0..<3_000 {
            let text = String(String.UnicodeScalarView((0..<Int.random(in: 0..<80, using: &random)).map { _ in alphabet.randomElement(using: &random)! }))
            let (list, problems) = PolicyAllowList.parse(text)
            let meaningful = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).filter { line in
                !(line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
            }
            #expect(list.entries.count + problems.count == meaningful.count, "\(text.debugDescription)")
        }
    }
}
