import DataTree
import KubeTesting
import Testing
import YAML

@Suite("YAML emitter")
struct YAMLEmitterTests {
    let emitter = YAMLEmitter()

    @Test("emits block style with mapping order kept")
    func blockStyle() throws {
        let text = try emitter.emitString(["global": ["scrape_interval": "15s"], "scrape_configs": [["job_name": "a", "static_configs": [["targets": ["127.0.0.1:9100"]]]]], "empty": [:]])
        #expect(text == """
            global:
              scrape_interval: 15s
            scrape_configs:
            - job_name: a
              static_configs:
              - targets:
                - 127.0.0.1:9100
            empty: {}

            """)
    }

    @Test("quotes strings a YAML 1.1 or 1.2 reader would read as something else", arguments: [
        "yes", "No", "on", "OFF", "y", "n", "true", "null", "~", "", "1", "-1", "0x1F", "0o17", "1e3", "1.5", ".5", ".inf", "-.Inf",
        ".NaN", "0755", "1_000", "12:30", "2024-01-01", "1.2.3", "<<", "=",
    ])
    func quotesAmbiguousStrings(text: String) throws {
        let yaml = try emitter.emitString(["k": .string(text)])
        #expect(!yaml.hasPrefix("k: \(text)\n") || text.isEmpty)
        let back = try YAMLParser().parse(yaml).first?.node
        #expect(back == ["k": .string(text)])
    }

    @Test("leaves ordinary strings plain")
    func plainStrings() throws {
        #expect(try emitter.emitString(["regex": "(Failed|Succeeded)", "url": "http://a:9093", "v": "v1.2"]) == "regex: (Failed|Succeeded)\nurl: http://a:9093\nv: v1.2\n")
    }

    @Test("every string survives emit then parse unchanged", arguments: 0..<300)
    func roundTripProperty(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed))
        let pieces = ["a", "1", ".", "-", ":", " ", "#", "'", "\"", "\n", "yes", "0x", "e", "\\", "é", "{", "[", "*", "&", "!", "|", ">", "%", "@", "\t", "null"]
        let text = (0..<Int(generator.next() % 8)).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()
        let tree: Node = ["key": .string(text), .init(stringLiteral: text): ["list": [.string(text), 1, true]]]
        let bytes = try emitter.emit(tree)
        let back = try YAMLParser().parse(bytes, file: "roundtrip").first?.node
        #expect(back == tree, "\(String(decoding: bytes, as: UTF8.self))")
    }

    @Test("separates documents with ---")
    func multipleDocuments() throws {
        let bytes = try emitter.emit(documents: [["a": 1], ["b": 2.5]])
        #expect(String(decoding: bytes, as: UTF8.self) == "a: 1\n---\nb: 2.5\n")
    }
}
