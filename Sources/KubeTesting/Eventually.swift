/// Waits for `condition` to hold, checking it every 20 ms, for at most `timeout`; whether it
/// held. The one way tests here wait for something asynchronous to become true (never a fixed
/// sleep standing for "it is done by now").
public func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
