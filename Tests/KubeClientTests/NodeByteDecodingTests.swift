@testable import KubeClient
import DataTree
import Foundation
import KubeModel
import KubeTesting
import Testing
import YAML

/// Whole objects kept as `Node` trees (every cached kind but pods) read by the byte decoder
/// against the tree path they took before (`JSONReader`, after `JSONDecoder` had refused
/// the type): where the cursor reads a document it must give the tree `JSONReader` gives;
/// where `JSONReader` refuses one the cursor must refuse it too; and what `BodyDecoder` returns
/// (the cursor, else the old path) must always be what the old path alone returned.
@Suite("Byte decoder reads Node trees as JSONReader does")
struct NodeByteDecodingTests {
    enum Outcome: Equatable {
        case tree(Node)
        case refused
    }

    static func viaReader(_ bytes: [UInt8]) -> Outcome {
        (try? JSONReader(maximumDepth: BodyDecoder.maximumDepth).read(bytes)).map(Outcome.tree) ?? .refused
    }

    static func viaCursor(_ bytes: [UInt8]) -> Outcome {
        (try? JSONCursor.decode(Node.self, from: bytes, interner: StringInterner())).map(Outcome.tree) ?? .refused
    }

    static func viaBodyDecoder(_ bytes: [UInt8]) -> Outcome {
        let decoder = JSONDecoder()
        decoder.userInfo[StringInterner.userInfoKey] = StringInterner()
        return (try? BodyDecoder.decode(Node.self, from: bytes, using: decoder)).map(Outcome.tree) ?? .refused
    }

    /// Every object of the samples, examples and test fixtures (all kinds), as JSON.
    static func repositoryObjects() throws -> [[UInt8]] {
        var objects: [[UInt8]] = []
        for directory in ["manifests/samples", "manifests/examples", "Tests/Fixtures", "Tests/ConfigGenTests/Golden"] {
            let root = repositoryRoot.appendingPathComponent(directory).path
            guard let files = FileManager.default.enumerator(atPath: root) else { continue }
            for case let file as String in files where file.hasSuffix(".yaml") {
                let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
                guard let documents = try? YAMLParser().parse(text, file: file) else { continue }
                for document in documents {
                    for raw in ObjectReader.rawObjects(from: document.node, source: nil).0 { objects.append(ByteDecodingTests.json(raw.document)) }
                }
            }
        }
        return objects
    }

    static let edgeCases: [String] = [
        #"{}"#, #"[]"#, #"null"#, #"true"#, #""text""#, #"0"#,
        #"{"a":1,"b":-0,"c":1.0,"d":1e2,"e":-1.5E-3,"f":9223372036854775807,"g":-9223372036854775808,"h":9223372036854775808,"i":99999999999999999999}"#,
        #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":+1}"#, #"{"a":1e}"#, #"{"a":-}"#, #"{"a":1e999}"#,
        #"{"a":1,"a":2}"#,
        #"{"metadata":{"name":"a","labels":{"x":"1","x":"2"}}}"#,
        #"{"a":[1,2,],"b":{}}"#, #"{"a":1,}"#, #"{"a":[,]}"#, #"{,"a":1}"#, #"{"a" 1}"#, #"{"a":1 "b":2}"#,
        #"{"\u006eame":"escaped-key","labels":{"caf\u00e9":"\ud83d\ude00","tab\t":"line\nbreak","q\"":"\\\/"}}"#,
        #"{"a":"\ud800"}"#, #"{"a":"\udc00\ud800"}"#, #"{"a":"\x"}"#, #"{"a":"\u12"}"#,
        #"{"spec":{"selector":{"matchLabels":{"app.kubernetes.io/name":"web-frontend-service"}},"template":{"metadata":{"labels":{"app.kubernetes.io/name":"web-frontend-service"}}}}}"#,
        #"{"metadata":{"name":"p"}} trailing"#, #"{"metadata":{"name":"p"}"#, #"  { "a" : [ true , false , null ] }  "#,
        "{\"a\":\"ctl\u{01}\"}", "{\"a\":\"\u{7F}\u{80}\"}",
        "{\"a\":tru}", "{\"a\":nul}", "{\"a\":falsey}",
    ]

    @Test("repository objects, realistic pods and edge cases: the cursor's tree is JSONReader's, and BodyDecoder's result is the old path's")
    func corpus() throws {
        var documents = try Self.repositoryObjects()
        let objectCount = documents.count
        documents += (0..<100).map { ByteDecodingTests.json(realisticPod($0)) }
        documents += Self.edgeCases.map { Array($0.utf8) }
        documents.append(Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))
        documents.append(Array(#"{""#.utf8) + [0xFF] + Array(#"":1}"#.utf8))
        documents.append(Array((#"{"big":""# + String(repeating: "x", count: 1 << 20) + #""}"#).utf8))
        // Deeper than the tree reader follows (the old path reads it) and deeper than any path reads.
        documents.append(Array((String(repeating: #"{"a":["#, count: 150) + "1" + String(repeating: "]}", count: 150)).utf8))
        documents.append(Array((String(repeating: "[", count: 1_200) + String(repeating: "]", count: 1_200)).utf8))
        // Twenty members, so the duplicate check switches to its set; once with a repeat at the end.
        let wide = (0..<20).map { #""key\#($0)":\#($0)"# }.joined(separator: ",")
        documents.append(Array("{\(wide)}".utf8))
        documents.append(Array("{\(wide),\"key3\":0}".utf8))

        var disagreements: [String] = []
        var readByCursor = 0
        for bytes in documents {
            let reference = Self.viaReader(bytes)
            let cursor = Self.viaCursor(bytes)
            if cursor != .refused { readByCursor += 1 }
            let agrees = cursor == .refused ? true : cursor == reference
            let refusesAlike = reference != .refused || cursor == .refused
            if !agrees || !refusesAlike || Self.viaBodyDecoder(bytes) != reference {
                disagreements.append("JSONReader \(reference == .refused ? "refused" : "read"), cursor \(cursor == .refused ? "refused" : "read"): \(String(decoding: bytes.prefix(160), as: UTF8.self))")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) of \(documents.count) documents decoded differently:\n\(disagreements.prefix(5).joined(separator: "\n"))")
        #expect(objectCount > 100, "the repository's objects are part of the corpus")
        #expect(readByCursor >= objectCount + 100, "every well-formed object is read by the cursor, not handed back")
    }

    @Test("seeded fuzz: mutated objects are read alike or refused alike, and never crash", arguments: [1, 2, 3])
    func fuzz(seed: UInt64) throws {
        // Objects without managedFields: the plain reader keeps every member, so every byte counts.
        let sources = try Self.repositoryObjects().filter { $0.count > 200 } + (0..<50).map { ByteDecodingTests.json(realisticPod($0)) }
        ByteDecodingTests.fuzz(seed: seed, document: { _, random in sources[Int(random.next() % UInt64(sources.count))] }) { bytes in
            let reference = Self.viaReader(bytes)
            let cursor = Self.viaCursor(bytes)
            // The cursor may refuse invalid UTF-8 that JSONReader repairs; BodyDecoder then takes the old path.
            let agrees = cursor == .refused ? reference == .refused || !bytes.allSatisfy({ $0 < 0x80 }) : cursor == reference
            let verdict = agrees && Self.viaBodyDecoder(bytes) == reference ? nil
                : "JSONReader \(reference == .refused ? "refused" : "read"), cursor \(cursor == .refused ? "refused" : "read")"
            return (reference == .refused, verdict)
        }
    }

    @Test("list pages and watch events of Node objects leave out metadata.managedFields and keep the rest as the tree path reads it")
    func listedObjectsDropManagedFields() throws {
        let pods = (0..<20).map { realisticPod($0) }
        #expect(pods.allSatisfy { $0["metadata"]?["managedFields"] != nil }, "the realistic pods carry managedFields")
        let page: Node = ["kind": "PodList", "apiVersion": "v1", "metadata": ["resourceVersion": "42", "continue": "next"], "items": .sequence(pods)]
        let bytes = ByteDecodingTests.json(page)
        let fast = try #require(BodyDecoder.fastDecode(ObjectList<Node>.self, from: bytes, interner: StringInterner()))
        let expected = pods.map { pod -> Node in
            var metadata = pod["metadata"]!.mapping!
            metadata["managedFields"] = nil
            var object = pod.mapping!
            object["metadata"] = .mapping(metadata)
            return .mapping(object)
        }
        #expect(fast.items == expected)
        #expect(fast.resourceVersion == "42" && fast.continueToken == "next")

        let line = #"{"type":"MODIFIED","object":"# + String(decoding: ByteDecodingTests.json(pods[2]), as: UTF8.self) + "}"
        let event = try WatchEvent<Node>.decode(line: Array(line.utf8), resource: APIResource(group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true))
        guard case .modified(let object) = event else { Issue.record("not a MODIFIED event"); return }
        #expect(object == expected[2])

        // A single object read on its own keeps everything, managedFields included.
        let whole = try JSONCursor.decode(Node.self, from: ByteDecodingTests.json(pods[0]))
        #expect(whole == pods[0])
    }

    @Test("label keys and values read into trees are interned: one storage across objects")
    func interning() throws {
        let interner = StringInterner()
        let text = #"{"metadata":{"labels":{"app.kubernetes.io/name":"web-frontend-service"}}}"#
        let a = try JSONCursor.decode(Node.self, from: Array(text.utf8), interner: interner)
        let b = try JSONCursor.decode(Node.self, from: Array(text.utf8), interner: interner)
        let labelsA = try #require(a["metadata"]?["labels"]?.mapping?.entries.first)
        let labelsB = try #require(b["metadata"]?["labels"]?.mapping?.entries.first)
        func storage(_ string: String) -> UnsafePointer<UInt8>? { string.utf8.withContiguousStorageIfAvailable { $0.baseAddress }.flatMap { $0 } }
        #expect(storage(labelsA.key) == storage(labelsB.key), "one storage for the label key")
        #expect(storage(labelsA.value.string!) == storage(labelsB.value.string!), "one storage for the label value")
    }

    @Test("errors name the member path and the byte offset")
    func errorLocation() {
        let text = #"{"spec":{"ports":[{"port":80},{"port":8a}]}}"#
        do {
            _ = try JSONCursor.decode(Node.self, from: Array(text.utf8))
            Issue.record("a malformed number must be refused")
        } catch {
            #expect(error.path == ["spec", "ports", "[1]"], "\(error)")
            #expect(error.offset == Array(text.utf8).firstIndex(of: UInt8(ascii: "a")), "\(error)")
        }
    }
}
