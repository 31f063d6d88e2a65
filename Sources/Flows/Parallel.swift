import Dispatch

/// `body(0)`, …, `body(count - 1)` spread over the machine's cores, returned in index order
/// (each index is computed by exactly one worker into its own slot), so the result is what
/// `(0..<count).map(body)` gives. `body` must only read shared state.
package func inParallel<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 1 else { return (0..<count).map(body) }
    return withoutActuallyEscaping(body) { body in
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let slots = ParallelSlots(base: buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: count) { index in
                (slots.base + index).initialize(to: body(index))
            }
            initialized = count
        }
    }
}

/// The result slots of `inParallel`: each worker writes only its own.
private struct ParallelSlots<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

