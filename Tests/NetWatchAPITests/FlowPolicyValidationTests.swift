import DataTree
import KubeModel
import NetWatchAPI
import Testing

@Suite("FlowPolicy validation")
struct FlowPolicyValidationTests {
    @Test("defaults: all workloads, observe, 24h window, 10m stabilization, DNS allowed, ingress default-deny")
    func defaults() throws {
        let object = try raw("""
            apiVersion: netwatch.dev/v1alpha1
            kind: FlowPolicy
            metadata: {name: learned, namespace: shop}
            spec:
              sources: [{hubble: {path: /var/run/cilium/hubble/events.log}}]
            """)
        let (resource, problems) = NetWatchKind.flowPolicy.decode(object)
        #expect(problems.isEmpty)
        guard case .flowPolicy(let policy)? = resource else { Issue.record("not decoded"); return }
        #expect(policy.spec.mode == .observe && policy.spec.podSelector.isEmpty)
        #expect(policy.spec.learning.window.milliseconds == 86_400_000 && policy.spec.learning.stabilization.milliseconds == 600_000)
        #expect(policy.spec.dns.allow && policy.spec.defaultDeny.ingress && !policy.spec.defaultDeny.egress && !policy.spec.widenOnNewConnections)
    }

    @Test("each problem names its field: a source with two kinds or none, ports, paths, URLs, resolvers, durations, the mode")
    func problemsNamed() throws {
        let found = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: FlowPolicy
            metadata: {name: broken, namespace: shop}
            spec:
              podSelector: {matchExpressions: [{key: app, operator: In}]}
              sources:
              - {ipfix: {port: 4739}, hubble: {path: /x}}
              - {}
              - {hubble: {path: relative/file.json}}
              - {istio: {prometheusURL: "prometheus:9090"}}
              - {ipfix: {port: 4739}}
              learning: {stabilization: 0s}
              dns: {resolvers: [169.254.20.10, "nodelocal"]}
            """)
        #expect(found.contains { $0.hasPrefix("spec.podSelector") }, "\(found)")
        #expect(found.contains("spec.sources[0]: set exactly one of ipfix, hubble or istio (found 2)"))
        #expect(found.contains("spec.sources[1]: set exactly one of ipfix, hubble or istio (found 0)"))
        #expect(found.contains("spec.sources[2].hubble.path: must be an absolute path in netwatch's container"))
        #expect(found.contains { $0.hasPrefix("spec.sources[3].istio.prometheusURL") }, "\(found)")
        let more = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: FlowPolicy
            metadata: {name: broken, namespace: shop}
            spec:
              sources: [{ipfix: {port: 4739}}, {ipfix: {port: 4739}}]
              learning: {stabilization: 0s}
              dns: {resolvers: [169.254.20.10, "nodelocal"]}
            """)
        #expect(more == [
            "spec.sources: two ipfix sources listen on the same port",
            "spec.learning.stabilization: must be longer than 0",
            "spec.dns.resolvers[1]: \"nodelocal\" is not an IPv4 or IPv6 address",
        ])
        let mode = try problems("""
            apiVersion: netwatch.dev/v1alpha1
            kind: FlowPolicy
            metadata: {name: broken, namespace: shop}
            spec: {mode: block, learning: {window: 1 day}}
            """)
        #expect(mode.count == 2 && mode.contains { $0.hasPrefix("spec.mode:") } && mode.contains { $0.hasPrefix("spec.learning.window:") }, "\(mode)")
    }
}
