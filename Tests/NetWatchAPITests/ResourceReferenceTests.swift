import Foundation
import KubeModel
import NetWatchAPI
import Testing

/// docs/resources/<plural>.md is generated from each kind's schema; these pages are kept
/// current (run `make golden` after changing a schema) and list every field.
@Suite("Resource reference pages")
struct ResourceReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func leafPaths(_ schema: Schema, _ path: String) -> [String] {
        switch schema.unvalidated {
        case .object(let properties, _, _):
            return properties.flatMap { leafPaths($0.schema, "\(path).\($0.name)") }
        case .array(let items, _):
            guard case .object(let properties, _, _) = items.unvalidated else { return [path] }
            return [path] + properties.flatMap { leafPaths($0.schema, "\(path)[].\($0.name)") }
        default:
            return [path]
        }
    }

    @Test("each page equals its generated text and names every field", arguments: NetWatchKind.allCases)
    func page(kind: NetWatchKind) throws {
        let file = Self.root.appendingPathComponent("docs/resources/\(kind.plural).md")
        let text = ResourceReference.markdown(for: kind)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try text.write(to: file, atomically: true, encoding: .utf8) }
        #expect((try? String(contentsOf: file, encoding: .utf8)) == text, "run `make golden` after changing \(kind.rawValue)'s schema")
        for path in Self.leafPaths(kind.specSchema, "spec") { #expect(text.contains("| `\(path)` |"), "\(path) is not listed") }
        #expect(text.contains("kubectl get \(kind.shortNames[0])"))
    }
}
