public import DataTree
import Foundation
import KubeModel

/// An object the API server sent that could not be decoded (nested deeper than the decoder
/// allows, a value of the wrong type), named from what could still be skimmed from its bytes.
///
/// Watches and lists report it instead of failing, so one bad object never stalls its kind:
/// the watch goes on past it and the list keeps the other items.
public struct UnreadableObject: Sendable, Hashable, CustomStringConvertible {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String
    public var uid: String?
    public var resourceVersion: String?
    /// Why it could not be read.
    public var problem: String

    public var description: String {
        "\(kind ?? "object") \(namespace.map { "\($0)/" } ?? "")\(name)"
    }

    /// Names the object in `range` of `bytes`; nil when not even its metadata.name can be found.
    static func skim(_ skimmer: JSONSkimmer, _ range: Range<Int>, problem: String) -> UnreadableObject? {
        guard let members = skimmer.members(of: range) else { return nil }
        func string(_ key: String) -> String? { members.first { $0.key == key }.flatMap { skimmer.string(in: $0.value) } }
        guard let metadata = members.first(where: { $0.key == "metadata" })?.value,
              let name = skimmer.stringMember("name", of: metadata) else { return nil }
        return UnreadableObject(apiVersion: string("apiVersion"), kind: string("kind"), namespace: skimmer.stringMember("namespace", of: metadata), name: name,
                                uid: skimmer.stringMember("uid", of: metadata), resourceVersion: skimmer.stringMember("resourceVersion", of: metadata), problem: problem)
    }
}

/// An object type that can stand in for an `UnreadableObject` in a cache, so the object stays
/// visible (and can be reported on) while its content is unusable. Types that cannot are
/// skipped: a watch advances past them and a list leaves them out.
public protocol UnreadableStandIn {
    /// `resource` supplies apiVersion and kind where the bytes did not (items of typed lists).
    static func standIn(for object: UnreadableObject, resource: APIResource) -> Self
}

extension Node: UnreadableStandIn {
    /// The annotation a stand-in carries: why its object could not be read.
    public static let unreadableAnnotation = ObjectMeta.unreadableAnnotation

    /// The object's identity (apiVersion, kind, metadata) with `unreadableAnnotation` set to the
    /// problem, and nothing else.
    public static func standIn(for object: UnreadableObject, resource: APIResource) -> Node {
        var metadata: [(String, Node)] = [("name", .string(object.name))]
        if let namespace = object.namespace { metadata.append(("namespace", .string(namespace))) }
        if let uid = object.uid { metadata.append(("uid", .string(uid))) }
        if let version = object.resourceVersion { metadata.append(("resourceVersion", .string(version))) }
        metadata.append(("annotations", .mapping(Mapping([(unreadableAnnotation, .string(object.problem))]))))
        var fields: [(String, Node)] = []
        fields.append(("apiVersion", .string(object.apiVersion ?? resource.apiVersion)))
        fields.append(("kind", .string(object.kind ?? resource.kind)))
        fields.append(("metadata", .mapping(Mapping(metadata))))
        return .mapping(Mapping(fields))
    }
}

extension UnreadableObject {
    /// The stand-in `Object` provides for this object, or nil when `Object` has none.
    public func standIn<Object>(as type: Object.Type, resource: APIResource) -> Object? {
        (type as? any UnreadableStandIn.Type)?.standIn(for: self, resource: resource) as? Object
    }
}
