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

/// `eventually` for waits that must succeed: throws `TimedOut` naming `what` when `condition`
/// never held within `timeout`. An error thrown by `condition` counts as "not yet" (a server
/// still starting refuses connections).
public func waitUntil(_ what: String, timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(100),
                      _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: interval)
    }
    throw TimedOut(what: what, timeout: timeout)
}

/// A wait that ran out of time.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public var timeout: Duration
    public var description: String { "timed out after \(timeout) waiting until \(what)" }
}
