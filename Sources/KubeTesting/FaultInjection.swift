/// Failures the test API server produces on purpose, so clients can be tested against the
/// conditions real API servers create under load and upgrades.
public struct FaultInjection: Sendable {
    /// Answer matching requests with `status` (and `Retry-After`) `count` times.
    public struct Failure: Sendable {
        public var method: String?
        public var pathContains: String?
        /// Match only watch requests (true), only non-watch requests (false) or both (nil).
        public var watch: Bool?
        public var status: Int
        public var retryAfterSeconds: Int?
        public var count: Int

        public init(method: String? = nil, pathContains: String? = nil, watch: Bool? = nil, status: Int, retryAfterSeconds: Int? = nil, count: Int = 1) {
            self.method = method
            self.pathContains = pathContains
            self.watch = watch
            self.status = status
            self.retryAfterSeconds = retryAfterSeconds
            self.count = count
        }
    }

    public var failures: [Failure] = []
    /// Delay before every answer.
    public var delay: Duration?
    /// Close every watch (without an error) after this many events.
    public var closeWatchesAfterEvents: Int?
    /// Continue tokens are answered with 410 Expired.
    public var expireContinueTokens = false
    /// `sendInitialEvents` is allowed (WatchList enabled). When false it gets 422.
    public var watchListEnabled = true
    /// Behave like a server that does not know `sendInitialEvents`: no initial-events-end bookmark.
    public var ignoreSendInitialEvents = false
    /// How often watches get a BOOKMARK (kube-apiserver: every minute).
    public var bookmarkInterval: Duration = .seconds(60)
    /// Raw bytes written at the start of the next watch (to test clients against bad lines).
    public var injectedWatchBytes: [UInt8]?

    public init() {}

    /// Takes the first matching failure, counting it down.
    mutating func take(method: String, path: String, isWatch: Bool) -> Failure? {
        guard let index = failures.firstIndex(where: { failure in
            (failure.method == nil || failure.method == method)
                && (failure.pathContains.map { path.contains($0) } ?? true)
                && (failure.watch == nil || failure.watch == isWatch)
        }) else { return nil }
        let failure = failures[index]
        failures[index].count -= 1
        if failures[index].count <= 0 { failures.remove(at: index) }
        return failure
    }
}
