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
    /// Label and annotation maps, by the bytes they were read from.
    let stringMaps = SharedByBytes<[String: String]>()
    let containerLists = SharedValues<[Container]> { containers in
        containers.reduce(into: 0) { hash, container in
            hash = SharedValues<[Container]>.combine(hash, container.name, container.image ?? "", container.restartPolicy ?? "")
            for port in container.ports { hash = SharedValues<[Container]>.combine(hash, port.name ?? "", port.protocol) &+ port.containerPort }
        }
    }
    let ownerLists = SharedValues<[OwnerReference]> { owners in
        owners.reduce(into: 0) { hash, owner in hash = SharedValues<[OwnerReference]>.combine(hash, owner.kind, owner.name, owner.uid ?? "") }
    }

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
        if let held = byBytes.withLock({ $0[hash] }), held.utf8.elementsEqual(bytes) { return held }
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        let shared = intern(string)
        byBytes.withLock { $0[hash] = shared }
        return shared
    }

    /// Distinct strings held.
    public var count: Int { table.withLock { $0.count } }
}

/// Values held once for everyone who holds an equal one. Looked up by a cheap hash of the
/// identities of their strings (`identity`) rather than of their bytes: interned strings share
/// storage, so equal values read through one interner have equal identities, and a value whose
/// strings were not interned merely misses sharing — equality is always checked. Bounded: past
/// `limit` distinct values the table starts again (values already handed out keep their
/// storage), so values of objects long deleted cannot accumulate.
final class SharedValues<Value: Equatable & Sendable>: Sendable {
    private let held = Mutex<[Int: [Value]]>([:])
    private let identity: @Sendable (Value) -> Int
    let limit: Int

    init(limit: Int = 65_536, identity: @escaping @Sendable (Value) -> Int) {
        self.limit = limit
        self.identity = identity
    }

    /// The held value equal to `value`, holding `value` if there is none.
    func share(_ value: Value) -> Value {
        let key = identity(value)
        return held.withLock { held in
            if let existing = held[key]?.first(where: { $0 == value }) { return existing }
            if held.count >= limit { held.removeAll(keepingCapacity: true) }
            held[key, default: []].append(value)
            return value
        }
    }

    /// Distinct values held.
    var count: Int { held.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Mixes the identities of strings into `hash`: a string's two words are its inline bytes
    /// (up to 15) or a reference to its storage, one per interned string.
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

/// Values held once for everyone who reads the same bytes: a value read before from equal bytes
/// is handed out without reading them again. For small values (label maps), whose bytes cost
/// little to keep and compare and much to decode. Bounded like `SharedValues`.
final class SharedByBytes<Value: Sendable>: Sendable {
    private struct Entry: Sendable {
        var bytes: [UInt8]
        var value: Value
    }

    private let held = Mutex<[Int: [Entry]]>([:])
    let limit: Int

    init(limit: Int = 65_536) {
        self.limit = limit
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return hasher.finalize()
    }

    /// The value read before from these bytes, if held.
    func value(readFrom bytes: UnsafeBufferPointer<UInt8>, hash: Int) -> Value? {
        held.withLock { held in
            held[hash]?.first { $0.bytes.elementsEqual(bytes) }?.value
        }
    }

    /// Holds `value` as the one read from `bytes`.
    func hold(_ value: Value, readFrom bytes: UnsafeBufferPointer<UInt8>, hash: Int) {
        held.withLock { held in
            if held.count >= limit { held.removeAll(keepingCapacity: true) }
            held[hash, default: []].append(Entry(bytes: Array(bytes), value: value))
        }
    }

    /// Distinct byte strings held.
    var count: Int { held.withLock { $0.values.reduce(0) { $0 + $1.count } } }
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
