import DataTree
import Foundation
import YAML

/// Decodes JSON bodies: typed projections straight through `JSONDecoder` (fast, no tree), and
/// types that keep free-form `Node` parts (a whole object as `Node`, a list of them) through
/// the ordered tree, so key order survives.
enum BodyDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], using decoder: JSONDecoder) throws -> T {
        do {
            return try decoder.decode(type, from: Data(bytes))
        } catch DecodingError.typeMismatch(let mismatched, _) where mismatched == Node.self {
            let node = try YAMLParser().parse(bytes, file: "response body").first?.node ?? .null
            return try NodeDecoder().decode(type, from: node)
        }
    }
}
