#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Shares the storage of strings that repeat across objects (label keys and values, images,
/// owner names, node names), so a cache of 100,000 pods holds each such string once — and, for
/// the byte decoder, of whole values that repeat across the pods of one workload (label and
/// annotation maps, container lists, owner references), which their pod template gives them all.
///
/// Decoding uses it when the decoder's `userInfo[StringInterner.userInfoKey]` holds one; pass
/// the same interner to every decode that fills one cache. Strings of up to 15 UTF-8 bytes are
/// stored inline by Swift and are returned as they are. Safe to share between threads.
public final class StringInterner: Sendable {
    public static let userInfoKey = CodingUserInfoKey(rawValue: "netwatch.stringInterner")!

    private let table = Mutex<Set<String>>([])
    /// Held strings by the hash of their bytes (a collision keeps the later one).
    private let byBytes = Mutex<[Int: String]>([:])
    /// Whole values that repeat across the pods of one workload.
    private let values = Mutex(SharedValues())

    public init() {}

    public func intern(_ string: String) -> String {
        guard string.utf8.count > 15 else { return string }
        return table.withLock { table in
            if let index = table.firstIndex(of: string) { return table[index] }
            table.insert(string)
            return string
        }
    }

    /// The held string with these UTF-8 bytes, adding it if new; nil when the bytes are not
    /// valid UTF-8. A string seen before costs a hash of its bytes and no allocation.
    public func intern(bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        let hash = hasher.finalize()
        if var held = byBytes.withLock({ $0[hash] }), held.withUTF8({ SharedValues.equal($0, bytes) }) { return held }
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        let shared = intern(string)
        byBytes.withLock { $0[hash] = shared }
        return shared
    }

    /// Distinct strings held.
    public var count: Int { table.withLock { $0.count } }

    /// The string map read before from these bytes, if one is held.
    func stringMap(readFrom bytes: UnsafeBufferPointer<UInt8>, hash: Int) -> [String: String]? {
        values.withLock { $0.maps[hash]?.first { held in held.bytes.withUnsafeBufferPointer { SharedValues.equal($0, bytes) } }?.map }
    }

    /// Holds `map` as the one read from `bytes`.
    func hold(_ map: [String: String], readFrom bytes: UnsafeBufferPointer<UInt8>, hash: Int) {
        values.withLock { values in
            values.makeRoom(values.maps.count)
            values.maps[hash, default: []].append((Array(bytes), map))
        }
    }

    /// The held container list equal to `containers`, holding it if there is none.
    func shared(_ containers: [Container]) -> [Container] {
        let key = containers.reduce(into: 0) { hash, container in
            hash = SharedValues.combine(hash, container.name, container.image ?? "", container.restartPolicy ?? "")
            for port in container.ports { hash = SharedValues.combine(hash, port.name ?? "", port.protocol) &+ port.containerPort }
        }
        return values.withLock { values in
            if let held = values.containers[key]?.first(where: { $0 == containers }) { return held }
            values.makeRoom(values.containers.count)
            values.containers[key, default: []].append(containers)
            return containers
        }
    }

    /// The held owner list equal to `owners`, holding it if there is none.
    func shared(_ owners: [OwnerReference]) -> [OwnerReference] {
        let key = owners.reduce(into: 0) { hash, owner in hash = SharedValues.combine(hash, owner.kind, owner.name, owner.uid ?? "") }
        return values.withLock { values in
            if let held = values.owners[key]?.first(where: { $0 == owners }) { return held }
            values.makeRoom(values.owners.count)
            values.owners[key, default: []].append(owners)
            return owners
        }
    }

    /// Values held, per table: string maps, container lists, owner lists.
    var sharedCounts: (maps: Int, containers: Int, owners: Int) {
        values.withLock { ($0.maps.values.reduce(0) { $0 + $1.count }, $0.containers.values.reduce(0) { $0 + $1.count }, $0.owners.values.reduce(0) { $0 + $1.count }) }
    }
}

/// The tables of whole values an interner shares. Lists are looked up by a cheap hash of the
/// identities of their strings rather than of their bytes: interned strings share storage, so
/// equal lists read through one interner have equal identities, and a list whose strings were
/// not interned merely misses sharing — equality is always checked. String maps are looked up
/// by the bytes they were read from, so a map seen before is not read again. Bounded: past
/// `limit` entries a table starts again (values handed out keep their storage), so values of
/// objects long deleted cannot accumulate.
struct SharedValues: Sendable {
    static let limit = 65_536
    var maps: [Int: [(bytes: [UInt8], map: [String: String])]] = [:]
    var containers: [Int: [[Container]]] = [:]
    var owners: [Int: [[OwnerReference]]] = [:]

    /// Empties every table once one of them holds `limit` keys.
    mutating func makeRoom(_ count: Int) {
        guard count >= Self.limit else { return }
        maps.removeAll()
        containers.removeAll()
        owners.removeAll()
    }

    /// Whether two byte buffers hold the same bytes (one memcmp, not an element loop).
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        guard let first = a.baseAddress, let second = b.baseAddress else { return true }
        return memcmp(first, second, a.count) == 0
    }

    static func bytesHash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return hasher.finalize()
    }

    /// Mixes the identities of strings into `hash`: a string's two words are its inline bytes
    /// (up to 15) or a reference to its storage, one per interned string. Read, never kept.
    static func combine(_ hash: Int, _ strings: String...) -> Int {
        var hash = UInt64(bitPattern: Int64(hash))
        for string in strings {
            let (first, second) = unsafeBitCast(string, to: (UInt64, UInt64).self)
            hash = (hash ^ first) &* 0x9E37_79B9_7F4A_7C15
            hash = (hash ^ second) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
        }
        return Int(Int64(bitPattern: hash))
    }
}

extension Decoder {
    /// `string` shared through the decoder's interner, if it has one.
    func interned(_ string: String) -> String {
        (userInfo[StringInterner.userInfoKey] as? StringInterner)?.intern(string) ?? string
    }

    func interned(_ string: String?) -> String? {
        string.map { interned($0) }
    }

    func interned(_ map: [String: String]) -> [String: String] {
        guard let interner = userInfo[StringInterner.userInfoKey] as? StringInterner, !map.isEmpty else { return map }
        var result = [String: String](minimumCapacity: map.count)
        for (key, value) in map { result[interner.intern(key)] = interner.intern(value) }
        return result
    }
}
