@testable import KubeClient
import DataTree
import Foundation
@testable import KubeModel
import KubeTesting
import Testing
import YAML

/// The byte decoder (`JSONCursor` and the `ByteDecodable` projections) against Foundation's
/// `JSONDecoder` reading the same bytes into the same `Decodable` projections: wherever
/// `JSONDecoder` reads a document, the byte decoder must read it too and give an equal value;
/// wherever `JSONDecoder` refuses one, so must the byte decoder. Over realistic pods, the
/// repository's pods, hand-written edge cases and a seeded fuzz corpus of mutations.
@Suite("Byte decoder agrees with JSONDecoder")
struct ByteDecodingTests {
    /// The outcome of one decoder: the value, or that it refused.
    enum Outcome<T: Equatable>: Equatable {
        case value(T)
        case refused
    }

    static func viaFoundation<T: Decodable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) -> Outcome<T> {
        let decoder = JSONDecoder()
        decoder.userInfo[StringInterner.userInfoKey] = StringInterner()
        return (try? decoder.decode(type, from: Data(bytes))).map(Outcome.value) ?? .refused
    }

    static func viaCursor<T: ByteDecodable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) -> Outcome<T> {
        (try? JSONCursor.decode(type, from: bytes, interner: StringInterner())).map(Outcome.value) ?? .refused
    }

    static func json(_ node: Node) -> [UInt8] { Array(JSONEmitter(style: .compact).emit(node)) }

    /// One random mutation of a document: a truncation, a byte replaced, a JSON-significant
    /// byte inserted, a byte removed, or a run of up to 64 bytes duplicated. Returns which and where.
    static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix) -> (kind: UInt64, at: Int) {
        let at = Int(random.next() % UInt64(bytes.count))
        let kind = random.next() % 5
        switch kind {
        case 0: bytes = Array(bytes.prefix(at))
        case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
        case 2: bytes.insert(Array(#"{}[],:"\0123456789.eE+-tfnu"#.utf8)[Int(random.next() % 26)], at: at)
        case 3: bytes.remove(at: at)
        default:
            let start = Int(random.next() % UInt64(bytes.count))
            let end = min(bytes.count, start + Int(random.next() % 64))
            bytes.insert(contentsOf: bytes[start..<end], at: at)
        }
        return (kind, at)
    }

    /// Pods of the samples, examples and test fixtures, as JSON.
    static func repositoryPods() throws -> [[UInt8]] {
        var pods: [[UInt8]] = []
        for directory in ["manifests/samples", "manifests/examples", "Tests/Fixtures"] {
            let root = repositoryRoot.appendingPathComponent(directory).path
            guard let files = FileManager.default.enumerator(atPath: root) else { continue }
            for case let file as String in files where file.hasSuffix(".yaml") {
                let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
                guard let documents = try? YAMLParser().parse(text, file: file) else { continue }
                for document in documents {
                    for raw in ObjectReader.rawObjects(from: document.node, source: nil).0 where raw.type.kind == "Pod" { pods.append(json(raw.document)) }
                }
            }
        }
        return pods
    }

    static let edgeCases: [String] = [
        #"{"metadata":{"name":"a"}}"#,
        #"{"metadata":{"name":"a","labels":null,"annotations":{}},"spec":null,"status":null}"#,
        #"{"metadata":{"name":"a","name":"b","namespace":"x","namespace":null}}"#,
        #"{"metadata":{"\u006eame":"escaped-key","labels":{"caf\u00e9":"\ud83d\ude00","tab\t":"line\nbreak","q\"":"\\\/"}}}"#,
        #"{"metadata":{"name":"lone","labels":{"a":"\ud800"}}}"#,
        #"{"metadata":{"name":"bad-escape","labels":{"a":"\x"}}}"#,
        #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":8080},{"containerPort":8.08e3},{"containerPort":80.0},{"containerPort":-0},{"containerPort":1E2}]}]}}"#,
        #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80.5}]}]}}"#,
        #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":99999999999999999999}]}]}}"#,
        #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":"80"}]}]}}"#,
        #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":01}]}]}}"#,
        #"{"metadata":{"name":"p"},"spec":{"containers":[{"image":"no-name"}]}}"#,
        #"{"metadata":{"name":"p"},"spec":{"hostNetwork":1}}"#,
        #"{"metadata":{"name":"p"},"spec":{"hostNetwork":true,"futureField":{"deep":[1,2,{"x":[true,false,null,-1.5e-3]}]}},"kind":"Pod","apiVersion":"v9"}"#,
        #"{"metadata":{"name":"p","ownerReferences":[{"kind":"ReplicaSet","name":"rs","controller":true},{"kind":"Job"}]}}"#,
        #"{"metadata":{"name":"p"},"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Ready","status":"True"}],"podIPs":[{"ip":"::1"}]}}"#,
        #"{"metadata":{"name":"p"},"status":{"conditions":[{"status":"True"}]}}"#,
        #"{"spec":{}}"#,
        #"{"metadata":{"name":"p"}} trailing"#,
        #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c",},],},}"#,
        #"{"metadata":{"name":"p"},"x":[1,2,],"y":{"a":[],},}"#,
        #"{"metadata":{"name":"p"},"x":[,]}"#,
        // Foundation takes the four bytes after \u in a string it skips unchecked, but refuses a quote among them.
        #"{"metadata":{"name":"p"},"x":"\uZZZZ","y":"\uZZZZZ","z":"\q","w":"a\"b\\"}"#,
        #"{"metadata":{"name":"p"},"x":"\u12"}"#,
        #"{"metadata":{"name":"p"},"x":"\uid\"x"}"#,
        #"{"metadata":{"name":"p"},"x":"k:{\"uid\":\"0\"}"}"#,
        // Numbers it skips are checked only for the bytes a number may hold.
        #"{"metadata":{"name":"p"},"a":010,"b":-01,"c":1.,"d":1e,"e":-,"f":1..2,"g":2-1,"h":1e5e5}"#,
        #"{"metadata":{"name":"p"},"a":.5}"#, #"{"metadata":{"name":"p"},"a":+1}"#, #"{"metadata":{"name":"p"},"a":1_0}"#, #"{"metadata":{"name":"p"},"a":12a}"#,
        #"{"metadata":{"name":"p",,"uid":"u"}}"#,
        #"{"metadata":{"name":"p",}}"#,
        #"{"metadata":{"name":"p"}"#,
        #"  {"metadata" : { "name" : "spaced" } }  "#,
        #"[]"#,
        #"null"#,
        "{\"metadata\":{\"name\":\"ctl\u{01}\"}}",
        "{\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"\u{7F}\u{80}\"}}}",
    ]

    @Test("realistic pods, the repository's pods and edge cases: equal where JSONDecoder reads them, refused where it refuses")
    func corpus() throws {
        var documents = (0..<300).map { Self.json(realisticPod($0)) }
        documents += try Self.repositoryPods()
        documents += Self.edgeCases.map { Array($0.utf8) }
        // Invalid UTF-8 inside a skipped and a kept string.
        documents.append(Array(#"{"metadata":{"name":"p"},"x":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8))
        documents.append(Array(#"{"metadata":{"name":""#.utf8) + [0xFF] + Array(#""}}"#.utf8))
        // A huge string and deep nesting in a skipped member (Foundation's limit is 512).
        documents.append(Array((#"{"metadata":{"name":"p","annotations":{"big":""# + String(repeating: "x", count: 1 << 20) + #""}}}"#).utf8))
        documents.append(Array((#"{"metadata":{"name":"p"},"deep":"# + String(repeating: "[", count: 400) + String(repeating: "]", count: 400) + "}").utf8))
        // Objects and arrays alternating past 64 levels (the skipper's inline stack), closed
        // correctly and with one closer swapped.
        let mixed = String(repeating: #"[{"a":"#, count: 100) + "1" + String(repeating: "}]", count: 100)
        documents.append(Array((#"{"metadata":{"name":"p"},"deep":"# + mixed + "}").utf8))
        documents.append(Array((#"{"metadata":{"name":"p"},"deep":"# + mixed.replacingOccurrences(of: "1}]}]", with: "1]}]}") + "}").utf8))
        var disagreements: [String] = []
        for bytes in documents {
            let expected = Self.viaFoundation(Pod.self, bytes)
            let actual = Self.viaCursor(Pod.self, bytes)
            if expected != actual {
                disagreements.append("Foundation \(expected == .refused ? "refused" : "read"), cursor \(actual == .refused ? "refused" : "read"): \(String(decoding: bytes.prefix(160), as: UTF8.self))")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) of \(documents.count) documents decoded differently:\n\(disagreements.prefix(5).joined(separator: "\n"))")
        #expect(documents.count > 330)
    }

    @Test("seeded fuzz: truncations and byte mutations of realistic pods decode alike or are refused alike, and never crash", arguments: [1, 2, 3])
    func fuzz(seed: UInt64) {
        Self.fuzz(seed: seed, document: { round, _ in Self.json(realisticPod(round)) }) { bytes in
            let expected = Self.viaFoundation(Pod.self, bytes)
            let actual = Self.viaCursor(Pod.self, bytes)
            let verdict = expected == actual ? nil : "Foundation \(expected == .refused ? "refused" : "read"), cursor \(actual == .refused ? "refused" : "read")"
            return (expected == .refused, verdict)
        }
    }

    /// Seeded mutations (`mutate`) of `cases` documents: `judge` says whether the reference
    /// decoder refused a mutated document and, if the decoders disagree on it, how. Expects no
    /// disagreement, and enough refusals that the mutations are known to break documents.
    static func fuzz(seed: UInt64, cases: Int = 400, document: (Int, inout SplitMix) -> [UInt8],
                     judge: ([UInt8]) -> (refused: Bool, disagreement: String?)) {
        var random = SplitMix(seed: seed)
        var disagreements: [String] = []
        var refused = 0
        for round in 0..<cases {
            var bytes = document(round, &random)
            let (kind, at) = Self.mutate(&bytes, &random)
            let (wasRefused, disagreement) = judge(bytes)
            if wasRefused { refused += 1 }
            if let disagreement {
                let around = String(decoding: bytes[max(0, at - 60)..<min(bytes.count, at + 60)], as: UTF8.self)
                disagreements.append("round \(round), mutation \(kind) at \(at): \(disagreement): …\(around)…")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) of \(cases) mutated documents decoded differently:\n\(disagreements.prefix(3).joined(separator: "\n\n"))")
        #expect(refused > cases / 10, "the mutations must break documents, or the test checks nothing")
    }

    @Test("a list page and watch events of pods decode alike, whatever the member order; an ERROR event goes the Decodable way")
    func envelopes() throws {
        let items = (0..<50).map { realisticPod($0) }
        let page: Node = ["kind": "PodList", "apiVersion": "v1", "metadata": ["resourceVersion": "42", "continue": "next", "remainingItemCount": 7], "items": .sequence(items)]
        let bytes = Self.json(page)
        let fast = try #require(BodyDecoder.fastDecode(ObjectList<Pod>.self, from: bytes, interner: nil))
        let slow = try JSONDecoder().decode(ObjectList<Pod>.self, from: Data(bytes))
        #expect(fast.items == slow.items && fast.items.count == 50)
        #expect(fast.resourceVersion == "42" && fast.continueToken == "next" && fast.remainingItemCount == 7)

        let pod = items[3]
        for line in [
            #"{"type":"ADDED","object":"# + String(decoding: Self.json(pod), as: UTF8.self) + "}",
            #"{"object":"# + String(decoding: Self.json(pod), as: UTF8.self) + #","type":"DELETED"}"#,
        ] {
            let fast = try #require(BodyDecoder.fastDecode(WatchEnvelope<Pod>.self, from: Array(line.utf8), interner: nil), "\(line.prefix(40))")
            let slow = try JSONDecoder().decode(WatchEnvelope<Pod>.self, from: Data(line.utf8))
            switch (fast.decoded, slow.decoded) {
            case (.event(.added(let a)), .event(.added(let b))), (.event(.deleted(let a)), .event(.deleted(let b))): #expect(a == b)
            default: Issue.record("the decoders read different events from \(line.prefix(40))")
            }
        }
        let bookmark = #"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"99","annotations":{"k8s.io/initial-events-end":"true"}}}}"#
        let read = try #require(BodyDecoder.fastDecode(WatchEnvelope<Pod>.self, from: Array(bookmark.utf8), interner: nil))
        guard case .event(.bookmark(let version, let end)) = read.decoded else { Issue.record("not a bookmark"); return }
        #expect(version == "99" && end)
        let error = #"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}"#
        #expect(BodyDecoder.fastDecode(WatchEnvelope<Pod>.self, from: Array(error.utf8), interner: nil) == nil)
    }

    @Test("a list's continue token is read from metadata that comes before the items, and only then (listAll asks for the next page early)")
    func leadingContinueToken() {
        let items = String(decoding: Self.json(.sequence((0..<3).map { realisticPod($0) })), as: UTF8.self)
        #expect(ObjectListPrefix.continueToken(in: Array(#"{"kind":"PodList","metadata":{"resourceVersion":"9","continue":"abc"},"items":\#(items)}"#.utf8)) == "abc")
        #expect(ObjectListPrefix.continueToken(in: Array(#"{"metadata":{"continue":""},"items":[]}"#.utf8)) == nil)
        #expect(ObjectListPrefix.continueToken(in: Array(#"{"metadata":{"resourceVersion":"9"},"items":[]}"#.utf8)) == nil)
        #expect(ObjectListPrefix.continueToken(in: Array(#"{"items":\#(items),"metadata":{"continue":"abc"}}"#.utf8)) == nil, "items first: no early token")
        #expect(ObjectListPrefix.continueToken(in: Array(#"{"metadata":{"continue":7}}"#.utf8)) == nil)
        #expect(ObjectListPrefix.continueToken(in: Array("not json".utf8)) == nil)
    }

    @Test("errors name the field path and the byte offset")
    func errorLocation() {
        let text = #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"a"},{"name":"b","ports":[{"containerPort":"80"}]}]}}"#
        do {
            _ = try JSONCursor.decode(Pod.self, from: Array(text.utf8))
            Issue.record("a string port must be refused")
        } catch {
            #expect(error.path == ["spec", "containers", "[1]", "ports", "[0]", "containerPort"], "\(error)")
            #expect(error.offset == text.utf8.count - 10, "\(error)")
        }
    }

    @Test("pods of one ReplicaSet share their label maps, container lists and owner references")
    func sharedValues() throws {
        let interner = StringInterner()
        let pods = try (0..<10).map { try JSONCursor.decode(Pod.self, from: Self.json(realisticPod($0)), interner: interner) }
        func storage<T>(_ array: [T]) -> UnsafeRawPointer? { array.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
        #expect(storage(pods[0].spec.containers) == storage(pods[4].spec.containers), "replicas hold one container list")
        #expect(storage(pods[0].metadata.ownerReferences) == storage(pods[3].metadata.ownerReferences), "replicas hold one owner list")
        #expect(storage(pods[0].spec.containers) != storage(pods[5].spec.containers), "another ReplicaSet has its own")
        #expect(pods[0].metadata.labels == pods[4].metadata.labels && pods[0].metadata.labels != pods[5].metadata.labels)
        // Two ReplicaSets: two label maps and two annotation maps, two container lists, two owner lists.
        let counts = interner.sharedCounts
        #expect(counts.maps == 4 && counts.containers == 2 && counts.owners == 2, "\(counts)")
    }

    @Test("interned strings are shared: equal long strings of different pods have one storage")
    func interning() throws {
        let interner = StringInterner()
        let a = try JSONCursor.decode(Pod.self, from: Self.json(realisticPod(0)), interner: interner)
        let b = try JSONCursor.decode(Pod.self, from: Self.json(realisticPod(5)), interner: interner)
        let imageA = try #require(a.spec.containers.last?.image)
        let imageB = try #require(b.spec.containers.last?.image)
        #expect(imageA == imageB && imageA.utf8.count > 15)
        let same = imageA.utf8.withContiguousStorageIfAvailable { x in imageB.utf8.withContiguousStorageIfAvailable { y in x.baseAddress == y.baseAddress } }
        #expect(same == true, "one storage for the shared image name")
    }
}
