import DataTree
import Foundation
import KubeTesting
import Testing
import YAML

@Suite("JSONReader")
struct JSONReaderTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every JSON file of the golden outputs (dashboards, file_sd, injection cases).
    static func corpus() -> [String] {
        let golden = root.appendingPathComponent("Tests/ConfigGenTests/Golden").path
        let files = (FileManager.default.enumerator(atPath: golden)?.allObjects as? [String]) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().map { golden + "/" + $0 }
    }

    @Test("gives the same tree as the YAML parser (libyaml) on every golden JSON file, keys in order")
    func sameAsLibyaml() throws {
        let files = Self.corpus()
        #expect(files.count >= 10)
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            let expected = try YAMLParser().parse(bytes, file: file).first?.node
            #expect(try JSONReader().read(bytes) == expected, "\(file)")
        }
    }

    @Test("escapes, unicode, numbers and literals")
    func values() throws {
        let text = #"{"a":"x\"y\\z\/\b\f\n\r\t","e":"\u00e9\ud83d\ude00","n":[0,-12,3.5,1e3,-0.25E-2,9223372036854775807,92233720368547758070],"l":[true,false,null],"o":{}, "s":[]}"#
        let node = try JSONReader().read(Array(text.utf8))
        #expect(node["a"] == .string("x\"y\\z/\u{8}\u{c}\n\r\t"))
        #expect(node["e"] == .string("é😀"))
        #expect(node["n"] == [.int(0), .int(-12), .double(3.5), .double(1000), .double(-0.0025), .int(Int.max), .double(92233720368547758080)])
        #expect(node["l"] == [true, false, nil])
        #expect(node["o"] == .mapping(Mapping()) && node["s"] == .sequence([]))
        #expect(node.mapping?.keys == ["a", "e", "n", "l", "o", "s"])
    }

    @Test("malformed documents are errors with line and column, never traps")
    func errors() {
        for (text, message) in [
            ("", "ends where a value"), ("{", "quoted key"), ("{\"a\":1,}", "quoted key"), ("[1,]", "expected a value"),
            ("{\"a\":1 \"b\":2}", "',' or '}'"), ("[1 2]", "',' or ']'"), ("\"abc", "ends inside a string"), ("\"a\nb\"", "control character"),
            ("{\"a\":1,\"a\":2}", "duplicate key"), ("01", "start with 0"), ("1.", "digits after"), ("1e", "exponent"), ("-", "needs digits"),
            ("tru", "expected true"), ("nul", "expected null"), ("\"\\x\"", "unknown escape"), ("\"\\ud800\"", "low half"), ("\"\\udc00\"", "high half"),
            ("\"\\u12\"", "four hex"), ("{} {}", "after the JSON document"), ("[\n 1,\n x]", "expected a value"),
        ] {
            do {
                _ = try JSONReader().read(Array(text.utf8))
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.message.contains(message), "\(text): \(error)")
            }
        }
        do {
            _ = try JSONReader().read(Array("[\n 1,\n x]".utf8))
        } catch {
            #expect(error.line == 3 && error.column == 2)
        }
        // Deep nesting is refused, not a stack overflow.
        #expect(throws: JSONReaderError.self) { try JSONReader().read(Array(repeating: UInt8(ascii: "["), count: 100_000)) }
        // Duplicates in large objects are found too (the set path).
        let large = "{" + (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k30\":1}"
        #expect(throws: JSONReaderError.self) { try JSONReader().read(Array(large.utf8)) }
    }

    @Test("fuzz: mutated, truncated and random inputs never trap; what it accepts, libyaml reads the same way")
    func fuzz() throws {
        var generator = SplitMix(seed: 0x0DDB_A11)
        func next() -> UInt64 { generator.next() }
        let seed = Array(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"x":"y"}},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}]},"n":[1,2.5,-3e2,true,null,"\u00e9"]}"#.utf8)
        let alphabet = Array(#"{}[],:"\ 0123456789.eE-+truefalsn"#.utf8)
        var accepted = 0
        for round in 0..<5_000 {
            var bytes = seed
            switch round % 3 {
            case 0: bytes = Array(bytes.prefix(Int(next() % UInt64(bytes.count))))
            case 1:
                for _ in 0..<(1 + next() % 4) { bytes[Int(next() % UInt64(bytes.count))] = alphabet[Int(next() % UInt64(alphabet.count))] }
            default: bytes = (0..<Int(next() % 40)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            }
            guard let node = try? JSONReader().read(bytes) else { continue }
            accepted += 1
            // libyaml agrees on what JSON it accepts (where YAML reads JSON the same way).
            if let yaml = try? YAMLParser().parse(bytes, file: "fuzz").first?.node, case .mapping = node {
                #expect(yaml == node, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(accepted > 100)
    }
}
