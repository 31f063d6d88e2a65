import DataTree
import Testing

@Suite("JSON emitter")
struct JSONEmitterTests {
    @Test("pretty output keeps order and indents by two spaces")
    func pretty() {
        let text = JSONEmitter().emitString([["targets": ["127.0.0.1:9100"], "labels": ["b": "2", "a": "1"]], [:], []])
        #expect(text == """
            [
              {
                "targets": [
                  "127.0.0.1:9100"
                ],
                "labels": {
                  "b": "2",
                  "a": "1"
                }
              },
              {},
              []
            ]

            """)
    }

    @Test("escapes quotes, backslashes and control characters")
    func escaping() {
        #expect(JSONEmitter(style: .compact).emitString(["k\"": "a\\b\n\u{1}é"]) == "{\"k\\\"\":\"a\\\\b\\n\\u0001é\"}\n")
    }

    @Test("prints integral doubles without a fraction and non-finite ones as null")
    func numbers() {
        #expect(JSONEmitter(style: .compact).emitString([1.0, 0.85, .double(.infinity), -3]) == "[1,0.85,null,-3]\n")
    }
}

@Suite("Node decoder")
struct NodeDecoderTests {
    struct Port: Decodable, Equatable {
        var name: String?
        var containerPort: Int
    }

    @Test("decodes nested values and reports the field path of a type mismatch")
    func fieldPathInErrors() throws {
        let decoder = NodeDecoder()
        #expect(try decoder.decode([Port].self, from: [["containerPort": 80, "name": "http"]]) == [Port(name: "http", containerPort: 80)])
        #expect {
            _ = try decoder.decode([Port].self, from: [["containerPort": 80], ["containerPort": "x"]], at: FieldPath(dotted: "spec.ports"))
        } throws: { error in
            (error as? NodeDecodingError)?.description == "spec.ports[1].containerPort: expected an integer, found a string"
        }
    }

    @Test("field paths quote keys that are not plain identifiers")
    func fieldPathQuoting() {
        #expect(FieldPath(dotted: "metadata.labels").appending("app.kubernetes.io/name").description == "metadata.labels[\"app.kubernetes.io/name\"]")
    }
}
