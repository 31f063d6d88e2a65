import CurlTransport
import Foundation
import KubeClient
import KubeRuntime
import KubeTesting
import Logging
import Testing

@Suite("Leader election against the test API server")
struct LeaseLockTests {
    func candidate(_ identity: String, _ client: KubeClient) -> LeaseLock<ContinuousClock> {
        let elector = LeaderElector(identity: identity, leaseDuration: .seconds(2), renewDeadline: .milliseconds(1500), retryPeriod: .milliseconds(200))
        return LeaseLock(client: client, namespace: "default", name: "netwatch-operator", elector: elector, clock: ContinuousClock(), logger: Logger(label: identity))
    }

    func leaders(_ a: LeaseLock<ContinuousClock>, _ b: LeaseLock<ContinuousClock>) async -> [Bool] { [await a.isLeader, await b.isLeader] }

    @Test("two replicas: never both leaders; a crashed leader is replaced after the lease duration, a released one at once")
    func twoReplicas() async throws {
        let server = try await TestAPIServer.start()
        let client = try KubeClient(configuration: KubeConfiguration(server: server.url), logger: Logger(label: "t"))
        let a = candidate("replica-a", client)
        let b = candidate("replica-b", client)
        let runA = Task { await a.run(releaseOnExit: false) }
        // a leads first (under load its first attempt may take longer than a fixed pause).
        for _ in 0..<100 where !(await a.isLeader) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(await a.isLeader)
        let runB = Task { await b.run() }
        var sawOne = false
        for _ in 0..<15 {
            // a before and after b: the reads are not simultaneous, and a loaded machine can
            // pause this task between them; a leading on both sides of b's read is an overlap.
            let state = await leaders(a, b), after = await a.isLeader
            #expect(!(state[0] && state[1] && after), "two leaders at once")
            if state == [true, false] { sawOne = true }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(sawOne)

        // a crashes (no release): b must wait out the lease, then lead.
        let crash = ContinuousClock.now
        runA.cancel()
        await runA.value
        var takeover: Duration?
        for _ in 0..<60 {
            if await b.isLeader { takeover = ContinuousClock.now - crash; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let waited = try #require(takeover)
        #expect(waited >= .milliseconds(1500), "took over after \(waited)")

        // b releases on shutdown: a new candidate takes over at its first attempt.
        runB.cancel()
        await runB.value
        let c = candidate("replica-c", client)
        let released = ContinuousClock.now
        let runC = Task { await c.run() }
        var cLeads: Duration?
        for _ in 0..<30 {
            if await c.isLeader { cLeads = ContinuousClock.now - released; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try #require(cLeads) < .milliseconds(1500), "well inside the 2 s lease: the release worked")
        runC.cancel()
        await runC.value
        await server.stop()
    }
}
