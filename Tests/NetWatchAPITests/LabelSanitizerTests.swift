import NetWatchAPI
import Testing

@Suite("Label name sanitising as Prometheus's strutil.SanitizeLabelName")
struct LabelSanitizerTests {
    /// The rule as Prometheus states it, per Unicode scalar (Go's `rune`): `[^a-zA-Z0-9_]` → `_`.
    static func reference(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_") ? scalar : "_"
        }))
    }

    @Test("known names", arguments: [
        ("app", "app"), ("app.kubernetes.io/name", "app_kubernetes_io_name"), ("pod-template-hash", "pod_template_hash"),
        ("ü-x", "__x"), ("日本", "__"), ("a😀b", "a_b"), ("", ""), ("9lives", "9lives"), ("e\u{301}", "e_"),
    ])
    func known(_ input: String, _ expected: String) {
        #expect(LabelSanitizer.sanitize(input) == expected)
    }

    @Test("agrees with the per-scalar rule on random names of ASCII and multi-byte scalars")
    func randomNames() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", "_", "-", ".", "/", " ", "\u{7F}", "\u{80}", "é", "ß", "\u{301}", "中", "😀", "\u{10FFFF}"]
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...12, using: &generator)
            let name = String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
            #expect(LabelSanitizer.sanitize(name) == Self.reference(name), "\(name.debugDescription)")
        }
    }
}
