internal import CCurl
import KubeClient
public import Synchronization

/// One request in flight: the easy handle (touched only on the loop thread) and the state the
/// consumer shares with curl's callbacks (behind a mutex).
///
/// Backpressure: a streaming transfer holds at most `highWater` bytes; when a chunk would go
/// over, the write callback returns `CURL_WRITEFUNC_PAUSE` without consuming it (curl delivers
/// the same bytes again after the unpause), and the consumer asks the loop to unpause once it
/// has drained below half.
final class CurlTransfer: @unchecked Sendable {
    enum Mode {
        case buffered(maxBytes: Int)
        case streaming(highWater: Int)
    }

    let request: HTTPRequest
    let mode: Mode
    /// Owned by the loop thread from `start` until `finish`.
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>

    private struct State {
        var statusLine: String?
        var headers: [HTTPHeader] = []
        var headDelivered = false
        var headWaiter: CheckedContinuation<HTTPResponseHead, any Error>?
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        var chunks: [[UInt8]] = []
        var chunkStart = 0
        var buffered = 0
        var paused = false
        var cancelled = false
        var finished: Result<Void, any Error>?
        var bodyWaiter: CheckedContinuation<[UInt8]?, any Error>?
        var completion: CheckedContinuation<HTTPResponse, any Error>?
    }

    private let state = Mutex(State())
    /// Called with this transfer when the consumer wants the loop to act (unpause or abort).
    private let wake: @Sendable (CurlTransfer, CurlMultiLoop.Command) -> Void

    let statistics: TransportStatistics

    init(request: HTTPRequest, mode: Mode, statistics: TransportStatistics, wake: @escaping @Sendable (CurlTransfer, CurlMultiLoop.Command) -> Void) {
        self.request = request
        self.statistics = statistics
        self.mode = mode
        self.wake = wake
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        errorBuffer.deallocate()
    }

    // MARK: consumer side

    func setCompletion(_ continuation: CheckedContinuation<HTTPResponse, any Error>) {
        let early: Result<Void, any Error>? = state.withLock { state in
            if let finished = state.finished { return finished }
            state.completion = continuation
            return nil
        }
        if let early { resumeCompletion(continuation, early) }
    }

    func setHeadWaiter(_ continuation: CheckedContinuation<HTTPResponseHead, any Error>) {
        enum Outcome { case head(HTTPResponseHead), failed(any Error), wait }
        let outcome: Outcome = state.withLock { state in
            if let head = state.head { return .head(head) }
            if case .failure(let error)? = state.finished { return .failed(error) }
            if state.finished != nil { return .failed(TransportError(kind: .receiveFailed, method: request.method, url: request.url, detail: "no response head")) }
            state.headWaiter = continuation
            return .wait
        }
        switch outcome {
        case .head(let head): continuation.resume(returning: head)
        case .failed(let error): continuation.resume(throwing: error)
        case .wait: break
        }
    }

    /// The next body chunk of a streaming transfer; nil at the end of the body.
    func nextChunk() async throws -> [UInt8]? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
                enum Outcome { case chunk([UInt8], resume: Bool), end, failed(any Error), wait }
                let outcome: Outcome = state.withLock { state in
                    if state.chunkStart < state.chunks.count {
                        let chunk = state.chunks[state.chunkStart]
                        state.chunks[state.chunkStart] = []
                        state.chunkStart += 1
                        if state.chunkStart > 64 && state.chunkStart * 2 > state.chunks.count {
                            state.chunks.removeFirst(state.chunkStart)
                            state.chunkStart = 0
                        }
                        state.buffered -= chunk.count
                        var resume = false
                        if state.paused, case .streaming(let highWater) = mode, state.buffered <= highWater / 2 {
                            state.paused = false
                            resume = true
                        }
                        return .chunk(chunk, resume: resume)
                    }
                    if state.cancelled { return .failed(CancellationError()) }
                    switch state.finished {
                    case .success?: return .end
                    case .failure(let error)?: return .failed(error)
                    case nil:
                        state.bodyWaiter = continuation
                        return .wait
                    }
                }
                switch outcome {
                case .chunk(let chunk, let resume):
                    if resume { wake(self, .unpause) }
                    continuation.resume(returning: chunk)
                case .end: continuation.resume(returning: nil)
                case .failed(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            cancel()
        }
    }

    /// Aborts the transfer from any thread; waiters end with `CancellationError`.
    func cancel() {
        let waiters = state.withLock { state -> (CheckedContinuation<[UInt8]?, any Error>?, CheckedContinuation<HTTPResponseHead, any Error>?, CheckedContinuation<HTTPResponse, any Error>?, Bool) in
            guard state.finished == nil, !state.cancelled else { return (nil, nil, nil, false) }
            state.cancelled = true
            state.finished = .failure(CancellationError())
            defer { state.bodyWaiter = nil; state.headWaiter = nil; state.completion = nil }
            return (state.bodyWaiter, state.headWaiter, state.completion, true)
        }
        waiters.0?.resume(throwing: CancellationError())
        waiters.1?.resume(throwing: CancellationError())
        waiters.2?.resume(throwing: CancellationError())
        if waiters.3 { wake(self, .abort) }
    }

    // MARK: loop side (curl callbacks and completion)

    /// Header callback: collects the status line and fields; the blank line ends the head.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) -> Int {
        // Trim CR/LF as bytes: in a Swift String "\r\n" is one Character, so hasSuffix("\n") misses it.
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        let waiter: (CheckedContinuation<HTTPResponseHead, any Error>, HTTPResponseHead)? = state.withLock { state in
            if line.hasPrefix("HTTP/") {
                // A new status line (after 1xx or a proxy CONNECT) starts a new head.
                state.statusLine = line
                state.headers = []
                return nil
            }
            if line.isEmpty {
                guard let statusLine = state.statusLine else { return nil }
                let parts = statusLine.split(separator: " ", maxSplits: 2)
                let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
                if (100..<200).contains(status) { return nil }
                let head = HTTPResponseHead(status: status, headers: state.headers, version: parts.first.map(String.init) ?? "")
                state.head = head
                if let waiter = state.headWaiter {
                    state.headWaiter = nil
                    return (waiter, head)
                }
                return nil
            }
            if let colon = line.firstIndex(of: ":") {
                let name = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmingSpaces()
                state.headers.append(HTTPHeader(name, value))
            }
            return nil
        }
        if let (continuation, head) = waiter { continuation.resume(returning: head) }
        return bytes.count
    }

    /// Write callback: buffers, queues for the consumer, or pauses.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if bytes.isEmpty { return 0 }
        switch mode {
        case .buffered(let maxBytes):
            let accepted = state.withLock { state -> Bool in
                guard !state.cancelled, state.body.count + bytes.count <= maxBytes else { return false }
                state.body.append(contentsOf: bytes)
                return true
            }
            return accepted ? bytes.count : 0
        case .streaming(let highWater):
            enum Outcome { case abort, pause, queued, handOver(CheckedContinuation<[UInt8]?, any Error>, [UInt8]) }
            let outcome: Outcome = state.withLock { state in
                if state.cancelled { return .abort }
                if state.buffered > 0 && state.buffered + bytes.count > highWater {
                    state.paused = true
                    return .pause
                }
                let chunk = [UInt8](bytes)
                if let waiter = state.bodyWaiter {
                    state.bodyWaiter = nil
                    return .handOver(waiter, chunk)
                }
                state.chunks.append(chunk)
                state.buffered += chunk.count
                return .queued
            }
            switch outcome {
            case .abort: return 0
            case .pause:
                statistics.pauses.add(1, ordering: .relaxed)
                return ccurl_writefunc_pause()
            case .queued: return bytes.count
            case .handOver(let waiter, let chunk):
                waiter.resume(returning: chunk)
                return bytes.count
            }
        }
    }

    /// Called once on the loop thread when curl is done with the transfer.
    func finish(_ result: Result<Void, any Error>) {
        typealias Waiters = (CheckedContinuation<[UInt8]?, any Error>?, CheckedContinuation<HTTPResponseHead, any Error>?, CheckedContinuation<HTTPResponse, any Error>?)
        let waiters: Waiters? = state.withLock { state in
            guard state.finished == nil else { return nil }
            state.finished = result
            if state.head == nil, case .success = result, let statusLine = state.statusLine {
                // A response without the final blank line (HTTP/1.0 close-delimited) still has a head.
                let parts = statusLine.split(separator: " ", maxSplits: 2)
                state.head = HTTPResponseHead(status: parts.count > 1 ? Int(parts[1]) ?? 0 : 0, headers: state.headers)
            }
            defer { state.bodyWaiter = nil; state.headWaiter = nil; state.completion = nil }
            return (state.bodyWaiter, state.headWaiter, state.completion)
        }
        guard let waiters else { return }
        switch result {
        case .success:
            waiters.0?.resume(returning: nil)
            if let headWaiter = waiters.1 {
                if let head = state.withLock({ $0.head }) {
                    headWaiter.resume(returning: head)
                } else {
                    headWaiter.resume(throwing: TransportError(kind: .receiveFailed, method: request.method, url: request.url, detail: "the server sent no response head"))
                }
            }
            if let completion = waiters.2 { resumeCompletion(completion, result) }
        case .failure(let error):
            waiters.0?.resume(throwing: error)
            waiters.1?.resume(throwing: error)
            waiters.2?.resume(throwing: error)
        }
    }

    private func resumeCompletion(_ continuation: CheckedContinuation<HTTPResponse, any Error>, _ result: Result<Void, any Error>) {
        switch result {
        case .failure(let error): continuation.resume(throwing: error)
        case .success:
            let response: HTTPResponse? = state.withLock { state in
                guard let head = state.head else { return nil }
                defer { state.body = [] }
                return HTTPResponse(head: head, body: state.body)
            }
            if let response {
                continuation.resume(returning: response)
            } else {
                continuation.resume(throwing: TransportError(kind: .receiveFailed, method: request.method, url: request.url, detail: "the server sent no response head"))
            }
        }
    }

    var isResponseTooLarge: Bool {
        guard case .buffered(let maxBytes) = mode else { return false }
        return state.withLock { !$0.cancelled && $0.body.count >= maxBytes }
    }
}

extension CurlTransfer.Mode: Sendable {}

/// Counters a transport keeps about itself (for tests and the operator's metrics).
public final class TransportStatistics: Sendable {
    /// Times a streaming transfer was paused because its consumer lagged.
    public let pauses = Atomic<Int>(0)
    public init() {}
}

private extension Substring {
    func trimmingSpaces() -> String {
        var view = self[...]
        while view.first == " " || view.first == "\t" { view.removeFirst() }
        while view.last == " " || view.last == "\t" { view.removeLast() }
        return String(view)
    }
}
