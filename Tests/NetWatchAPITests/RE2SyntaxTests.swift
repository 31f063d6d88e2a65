import Foundation
import NetWatchAPI
import Testing

/// Regexes with the verdict of Go's regexp/syntax; the promtool cross-check below confirms
/// each verdict against the real Prometheus on this machine.
let regexCorpus: [(String, Bool)] = [
    ("(.*)", true), ("(Failed|Succeeded)", true), ("go_gc_.*", true), ("(?P<name>[a-z]+)", true), ("(?i)web", true),
    ("a{2,5}", true), ("a{1000}", true), ("[[:alpha:]]+", true), ("\\d+\\.\\d+", true), ("\\pL\\p{Greek}", true), ("[a-z0-9-]+", true),
    ("a{,5}", true), ("x{", true), ("\\Q.*\\E", true), ("(?i:abc)def", true), ("\\x41\\x{263a}", true), ("[]a]", true), ("a*?", true), ("(?P<a>x)(?P<a>y)", true),
    ("(?=x)", false), ("(?!x)", false), ("(?<=x)", false), ("\\1", false), ("a**", false), ("a++", false), ("*a", false), ("(a", false),
    ("a)", false), ("[a-", false), ("[z-a]", false), ("a{1001}", false), ("a{5,2}", false), ("\\e", false), ("(?<n>x)", false),
    ("[[:foo:]]", false), ("\\", false), ("(?z)", false),
]

@Suite("RE2 syntax")
struct RE2SyntaxTests {
    @Test("verdicts match Go's regexp/syntax", arguments: regexCorpus)
    func verdicts(regex: String, valid: Bool) {
        #expect((RE2Syntax.checkRelabelRegex(regex) == nil) == valid, "\(regex): \(RE2Syntax.checkRelabelRegex(regex) ?? "accepted")")
    }

    @Test("the corpus verdicts agree with the real promtool")
    func agreesWithPromtool() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("re2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, (regex, valid)) in regexCorpus.enumerated() {
            let escaped = regex.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            let config = """
                scrape_configs:
                - job_name: j
                  static_configs: [{targets: ["127.0.0.1:9"]}]
                  relabel_configs:
                  - {source_labels: [a], regex: "\(escaped)", target_label: b}
                """
            let path = directory.appendingPathComponent("\(index).yml")
            try config.write(to: path, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
            process.arguments = ["check", "config", "--syntax-only", path.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect((process.terminationStatus == 0) == valid, "promtool disagrees on \(regex)")
        }
    }

    @Test("never crashes on arbitrary input", arguments: 0..<500)
    func fuzz(seed: Int) {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let alphabet = Array("()[]{}|*+?.^$\\-:,PpQEx0123aZ<>=!i")
        var text = ""
        for _ in 0..<(seed % 24) {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            text.append(alphabet[Int(state % UInt64(alphabet.count))])
        }
        _ = RE2Syntax.checkRelabelRegex(text)
    }
}
