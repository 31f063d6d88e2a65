import Foundation
import NetWatchAPI
import Testing

/// netwatch's PromQL parser against the real promtool (Debian's Prometheus 2.42), expression by
/// expression: the same verdict for every line of promql-corpus.txt.
@Suite("PromQL parser against promtool")
struct PromQLCorpusTests {
    static let corpus: [String] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("promql-corpus.txt")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init).filter { !$0.hasPrefix("#") }
    }()

    /// Indices of the corpus lines promtool rejects: one rule file, one group per expression.
    static func promtoolRejects(_ expressions: [String]) throws -> Set<Int> {
        var yaml = "groups:\n"
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes  // YAML has no \/ escape
        for (index, expression) in expressions.enumerated() {
            let quoted = String(decoding: try encoder.encode(expression), as: UTF8.self)
            yaml += "- name: g\(index)\n  rules:\n  - record: r\n    expr: \(quoted)\n"
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("promql-corpus-\(UUID().uuidString).yml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["check", "rules", file.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var rejected: Set<Int> = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let range = line.range(of: "group \"g") else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            if let index = Int(digits) { rejected.insert(index) }
        }
        return rejected
    }

    @Test("the corpus has at least 200 expressions, valid and invalid, and both parsers agree on each")
    func sameVerdictAsPromtool() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"), "run hack/setup: it installs Debian's prometheus (promtool)")
        let expressions = Self.corpus
        #expect(expressions.count >= 200)
        let rejected = try Self.promtoolRejects(expressions)
        #expect(!rejected.isEmpty && rejected.count < expressions.count)
        var disagreements: [String] = []
        for (index, expression) in expressions.enumerated() {
            let ours = PromQL.check(expression)
            let promtoolAccepts = !rejected.contains(index)
            if promtoolAccepts != (ours == nil) {
                disagreements.append("\(expression)  — promtool: \(promtoolAccepts ? "valid" : "invalid"), netwatch: \(ours.map { "invalid (\($0.message))" } ?? "valid")")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements:\n\(disagreements.joined(separator: "\n"))")
    }

    @Test("no input crashes the parser: truncations and byte mutations of the corpus")
    func fuzz() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state &+= 0x9E37_79B9_7F4A_7C15; var z = state; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; return z ^ (z >> 31) }
        let alphabet = Array("(){}[],:=!~+-*/%^<>@\"'`#\\ 5mxby0.e".utf8)
        var checked = 0
        for expression in Self.corpus {
            let bytes = Array(expression.utf8)
            for cut in 0...bytes.count { _ = PromQL.check(String(decoding: bytes[..<cut], as: UTF8.self)); checked += 1 }
            for _ in 0..<20 {
                var mutated = bytes
                if !mutated.isEmpty { mutated[Int(next() % UInt64(mutated.count))] = alphabet[Int(next() % UInt64(alphabet.count))] }
                _ = PromQL.check(String(decoding: mutated, as: UTF8.self))
                checked += 1
            }
        }
        _ = PromQL.check(String(repeating: "(", count: 10_000))
        _ = PromQL.check(String(repeating: "-", count: 10_000) + "x")
        #expect(checked > 5_000)
    }
}
