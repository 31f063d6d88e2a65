import DataTree
import KubeModel
import Foundation
import YAML

/// Decodes JSON bodies: projections that read themselves from bytes (`ByteDecodable`: pods,
/// whole objects as `Node` trees, their list pages and watch events) through a `JSONCursor`;
/// other typed projections through `JSONDecoder` (no tree), and types that keep free-form
/// `Node` parts through the ordered tree, so key order survives. Whatever the cursor cannot
/// read goes the `JSONDecoder` way, which reports it as before.
///
/// Foundation's decoder refuses nesting deeper than 512 levels; kube-apiserver stores objects
/// nested up to 10,000 (client-go reads them). Such a body is read again with `JSONReader`
/// up to `maximumDepth` and decoded from the tree, so a deep object decodes like any other.
/// Deeper ones fail here; watches and lists then report them as `UnreadableObject`s by name
/// and go on.
enum BodyDecoder {
    /// Levels read through the tree. Reading, decoding and releasing a tree recurse once per
    /// level; measured, a debug build overflows a task's stack between 3,000 and 6,000 levels,
    /// so 1,000 keeps a wide margin while covering any object a person writes.
    static let maximumDepth = 1_000

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], using decoder: JSONDecoder) throws -> T {
        if let value = fastDecode(type, from: bytes, interner: decoder.userInfo[StringInterner.userInfoKey] as? StringInterner) { return value }
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch DecodingError.typeMismatch(let mismatched, _) where mismatched == Node.self {
            return try NodeDecoder().decode(type, from: try readTree(bytes))
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            // Not JSON to Foundation: too deep, or not JSON at all (then this throws too).
            return try NodeDecoder().decode(type, from: try readTree(bytes))
        }
    }

    static func readTree(_ bytes: [UInt8]) throws -> Node {
        try JSONReader(maximumDepth: maximumDepth).read(bytes)
    }
}
