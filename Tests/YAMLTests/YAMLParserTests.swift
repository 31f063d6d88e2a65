import DataTree
import KubeTesting
import Testing
import YAML

@Suite("YAML parser")
struct YAMLParserTests {
    let parser = YAMLParser()

    @Test("reads every document of a multi-document stream with its starting line")
    func multiDocument() throws {
        let documents = try parser.parse("a: 1\n---\n# comment\nb: [x, 'y']\n---\n", file: "m.yaml")
        #expect(documents.count == 3)
        #expect(documents[0].node == ["a": 1])
        #expect(documents[1].node == ["b": ["x", "y"]])
        #expect(documents[1].line == 4)
        #expect(documents[2].node == .null)
    }

    @Test("reads JSON through the same parser")
    func json() throws {
        let documents = try parser.parse(#"{"kind": "List", "items": [{"n": 1.5, "ok": true, "z": null, "s": "a\"b\u00e9"}]}"#)
        #expect(documents.first?.node == ["kind": "List", "items": [["n": 1.5, "ok": true, "z": nil, "s": "a\"bé"]]])
    }

    @Test("resolves plain scalars as Kubernetes tooling does and keeps quoted ones strings")
    func scalarResolution() throws {
        let node = try #require(try parser.parse("a: yes\nb: 'yes'\nc: 0x1F\nd: 1e3\ne: ~\nf: 010\ng: 1.2.3\nh: !!str 5\n").first?.node)
        #expect(node["a"] == .bool(true))
        #expect(node["b"] == .string("yes"))
        #expect(node["c"] == .int(31))
        #expect(node["d"] == .double(1000))
        #expect(node["e"] == .null)
        #expect(node["f"] == .int(10))
        #expect(node["g"] == .string("1.2.3"))
        #expect(node["h"] == .string("5"))
    }

    @Test("reports a syntax error with file, line and column")
    func syntaxErrorPosition() {
        #expect {
            _ = try parser.parse("a: 1\nb: [1, 2\nc: 3\n", file: "bad.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.file == "bad.yaml" && error.line == 3 && error.description.hasPrefix("bad.yaml:3:")
        }
    }

    @Test("rejects duplicate keys at the second occurrence")
    func duplicateKeys() {
        #expect {
            _ = try parser.parse("metadata:\n  name: a\n  name: b\n", file: "dup.yaml")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            return error.line == 3 && error.column == 3 && error.message.contains("duplicate key \"name\"")
        }
    }

    @Test("expands aliases and merge keys")
    func aliasesAndMerge() throws {
        let node = try #require(try parser.parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b]\n").first?.node)
        #expect(node["use"] == ["y": 3, "x": 1])
        #expect(node["list"] == [["x": 1, "y": 2]])
    }

    @Test("refuses a billion-laughs document instead of expanding it")
    func aliasBomb() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        #expect(throws: YAMLError.self) { _ = try parser.parse(text, file: "bomb.yaml") }
    }

    @Test("never crashes on arbitrary bytes", arguments: 0..<200)
    func fuzzBytes(seed: Int) {
        var generator = SplitMix(seed: UInt64(seed))
        let alphabet = Array("ab:- \n\t[]{}'\"&*!|>#,?%@`\\0123\u{00e9}".utf8) + [0xFF, 0x00]
        let bytes = (0..<Int(generator.next() % 200)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        do {
            _ = try parser.parse(bytes, file: "fuzz")
        } catch {
            #expect(error.line >= 1 && error.column >= 1)
        }
    }
}

/// A small deterministic generator so property tests reproduce from their seed.

@Suite("Deep nesting")
struct DeepNestingTests {
    @Test("60,000 levels of flow nesting are refused at the level that goes too deep, with file, line and column, instead of crashing")
    func tooDeep() throws {
        let text = String(repeating: "[", count: 60_000) + String(repeating: "]", count: 60_000)
        do {
            _ = try YAMLParser().parse(text, file: "deep.yaml")
            Issue.record("a 60,000-deep document was accepted")
        } catch {
            #expect(error.file == "deep.yaml" && error.line == 1 && error.column == 513, "\(error)")
            #expect(error.message.contains("deeper than 512 levels"))
        }
        let mappings = String(repeating: "{a: ", count: 20_000) + "1" + String(repeating: "}", count: 20_000)
        #expect(throws: YAMLError.self) { _ = try YAMLParser().parse(mappings, file: "deep.yaml") }
    }

    @Test("512 levels still parse")
    func deepButAllowed() throws {
        let text = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        var node = try #require(try YAMLParser().parse(text, file: "ok.yaml").first?.node)
        var depth = 0
        while case .sequence(let elements) = node {
            depth += 1
            guard let first = elements.first else { break }
            node = first
        }
        #expect(depth == 512)
    }
}
