internal import CCurl
import Foundation
import KubeClient
import Synchronization

/// The one owner of a curl multi handle: a dedicated thread that adds, unpauses and aborts
/// transfers on request, drives them with `curl_multi_perform`, and sleeps in
/// `curl_multi_poll` until a socket is ready or `curl_multi_wakeup` says there is a command.
///
/// Every easy handle is created, changed and cleaned up on this thread only; other threads
/// talk to it through `submit`, which is the only cross-thread entry point.
final class CurlMultiLoop: @unchecked Sendable {
    enum Command: Sendable { case start, unpause, abort }

    private let multi: UnsafeMutableRawPointer
    private let pending = Mutex<(commands: [(CurlTransfer, Command)], stopping: Bool)>(([], false))
    private let makeEasyHandle: @Sendable (CurlTransfer) throws -> UnsafeMutableRawPointer
    /// Loop thread only.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(makeEasyHandle: @escaping @Sendable (CurlTransfer) throws -> UnsafeMutableRawPointer) throws {
        guard let multi = curl_multi_init() else {
            throw TransportError(kind: .other, method: "-", url: "-", detail: "curl_multi_init failed")
        }
        self.multi = UnsafeMutableRawPointer(multi)
        self.makeEasyHandle = makeEasyHandle
        // HTTP/2 multiplexing where the server offers it; curl opens more connections when needed.
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        let thread = Thread { [self] in run() }
        thread.name = "netwatch-curl"
        thread.start()
    }

    /// Queues a command for the loop thread and wakes it.
    func submit(_ transfer: CurlTransfer, _ command: Command) {
        pending.withLock { $0.commands.append((transfer, command)) }
        curl_multi_wakeup(multi)
    }

    /// Ends the loop once in-flight transfers are done; new transfers fail.
    func stop() {
        pending.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    private func run() {
        while true {
            let (commands, stopping) = pending.withLock { state -> ([(CurlTransfer, Command)], Bool) in
                defer { state.commands = [] }
                return (state.commands, state.stopping)
            }
            for (transfer, command) in commands { apply(command, to: transfer, stopping: stopping) }
            if stopping && active.isEmpty { break }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collectFinished()
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        curl_multi_cleanup(multi)
    }

    private func apply(_ command: Command, to transfer: CurlTransfer, stopping: Bool) {
        switch command {
        case .start:
            if stopping {
                transfer.finish(.failure(TransportError(kind: .cancelled, method: transfer.request.method, url: transfer.request.url, detail: "the transport is shutting down")))
                return
            }
            do {
                let easy = try makeEasyHandle(transfer)
                transfer.easy = easy
                active[easy] = transfer
                let code = curl_multi_add_handle(multi, easy)
                if code != CURLM_OK {
                    remove(easy)
                    transfer.finish(.failure(CurlErrors.multiError(code, transfer.request)))
                }
            } catch {
                transfer.finish(.failure(error))
            }
        case .unpause:
            if let easy = transfer.easy, active[easy] != nil { _ = ccurl_easy_unpause(easy) }
        case .abort:
            if let easy = transfer.easy, active[easy] != nil {
                remove(easy)
                transfer.finish(.failure(CancellationError()))
            }
        }
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let transfer = active[easy] else { continue }
            let code = ccurl_message_result(message)
            let result: Result<Void, any Error> = code == CURLE_OK ? .success(()) : .failure(CurlErrors.translate(code, transfer))
            remove(easy)
            transfer.finish(result)
        }
    }

    private func remove(_ easy: UnsafeMutableRawPointer) {
        _ = curl_multi_remove_handle(multi, easy)
        if let transfer = active.removeValue(forKey: easy) {
            curl_easy_cleanup(easy)
            transfer.easy = nil
            if let list = transfer.headerList {
                curl_slist_free_all(list)
                transfer.headerList = nil
            }
        }
    }
}
