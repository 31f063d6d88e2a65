/// Splits a byte stream into newline-terminated lines, whatever the chunk boundaries.
///
/// The API server ends every watch event with `\n` (Go's json.Encoder), but HTTP chunks, TLS
/// records and HTTP/2 frames split events and carry several at once. Guarantees: `append`
/// returns each complete line exactly once, in order, without the terminator; a line longer
/// than `maxLineBytes` is an error (the rest of that line is discarded); bytes after the last
/// newline stay buffered and `finish` reports them as an incomplete trailing line.
public struct LineFramer: Sendable {
    public struct Line: Sendable, Equatable {
        public var bytes: [UInt8]
        /// Offset of the line's first byte in the whole stream.
        public var offset: Int
    }

    public struct LineTooLong: Error, Sendable, Equatable {
        public var offset: Int
        public var limit: Int
    }

    public let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var bufferOffset = 0
    private var discarding = false

    public init(maxLineBytes: Int = 64 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes received after the last complete line.
    public var pendingByteCount: Int { buffer.count }

    public mutating func append(_ chunk: some Collection<UInt8>) throws(LineTooLong) -> [Line] {
        var lines: [Line] = []
        var tooLong: LineTooLong?
        var rest = chunk[...]
        while !rest.isEmpty {
            let newline = rest.firstIndex(of: 0x0A)
            let piece = rest[..<(newline ?? rest.endIndex)]
            if discarding {
                bufferOffset += piece.count
            } else {
                buffer.append(contentsOf: piece)
                if buffer.count > maxLineBytes {
                    tooLong = LineTooLong(offset: bufferOffset, limit: maxLineBytes)
                    bufferOffset += buffer.count
                    buffer.removeAll()
                    discarding = true
                }
            }
            guard let newline else { break }
            if discarding {
                discarding = false
                bufferOffset += 1
            } else {
                var line = buffer
                if line.last == 0x0D { line.removeLast() }
                if !line.isEmpty { lines.append(Line(bytes: line, offset: bufferOffset)) }
                bufferOffset += buffer.count + 1
                buffer.removeAll(keepingCapacity: true)
            }
            rest = rest[rest.index(after: newline)...]
        }
        if let tooLong { throw tooLong }
        return lines
    }

    /// The incomplete bytes at the end of the stream, if any (kube-rs ignores them; so do we,
    /// but the caller may report them).
    public mutating func finish() -> Line? {
        defer { buffer = [] }
        return buffer.isEmpty || discarding ? nil : Line(bytes: buffer, offset: bufferOffset)
    }
}
