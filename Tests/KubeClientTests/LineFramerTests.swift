import KubeClient
import KubeTesting
import Testing

@Suite("Watch framing")
struct LineFramerTests {
    @Test("an event split across chunks comes out once, whole")
    func splitAcrossChunks() throws {
        var framer = LineFramer()
        #expect(try framer.append(Array(#"{"type":"ADD"#.utf8)).isEmpty)
        #expect(try framer.append(Array(#"ED","object":{}"#.utf8)).isEmpty)
        let lines = try framer.append(Array("}\n".utf8))
        #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == [#"{"type":"ADDED","object":{}}"#])
        #expect(lines[0].offset == 0)
    }

    @Test("several events in one chunk, with CRLF and blank lines")
    func severalPerChunk() throws {
        var framer = LineFramer()
        let lines = try framer.append(Array("a\nbb\r\n\nccc\nd".utf8))
        #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["a", "bb", "ccc"])
        #expect(lines.map(\.offset) == [0, 2, 7])
        #expect(framer.pendingByteCount == 1)
        #expect(framer.finish().map { String(decoding: $0.bytes, as: UTF8.self) } == "d")
    }

    @Test("an object over 64 KiB in 1-byte to 16 KiB pieces")
    func largeObject() throws {
        let big = Array(repeating: UInt8(ascii: "x"), count: 200_000)
        var framer = LineFramer()
        var lines: [LineFramer.Line] = []
        var index = 0
        var size = 1
        let stream = big + [0x0A] + Array("tail\n".utf8)
        while index < stream.count {
            let end = min(stream.count, index + size)
            lines += try framer.append(stream[index..<end])
            index = end
            size = size * 3 % 16_384 + 1
        }
        #expect(lines.count == 2)
        #expect(lines[0].bytes == big)
        #expect(lines[1].offset == 200_001)
    }

    @Test("a line over the limit is an error and the next line still comes through")
    func tooLong() throws {
        var framer = LineFramer(maxLineBytes: 10)
        #expect(throws: LineFramer.LineTooLong.self) { try framer.append(Array("0123456789abcdef".utf8)) }
        let lines = try framer.append(Array("more\nok\n".utf8))
        #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["ok"])
    }

    @Test("property: any chunking yields the same lines", arguments: 0..<50)
    func anyChunking(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed))
        let lines = (0..<Int.random(in: 1...40, using: &generator)).map { index in
            String(repeating: "\(index % 10)", count: Int.random(in: 1...3000, using: &generator))
        }
        let stream = Array(lines.joined(separator: "\n").utf8) + [0x0A]
        var framer = LineFramer()
        var out: [String] = []
        var index = 0
        while index < stream.count {
            let end = min(stream.count, index + Int.random(in: 1...5000, using: &generator))
            out += try framer.append(stream[index..<end]).map { String(decoding: $0.bytes, as: UTF8.self) }
            index = end
        }
        #expect(out == lines)
        #expect(framer.finish() == nil)
    }
}

