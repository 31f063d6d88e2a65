import Synchronization

/// Shares the storage of strings that repeat across objects (label keys and values, images,
/// owner names, node names), so a cache of 100,000 pods holds each such string once.
///
/// Decoding uses it when the decoder's `userInfo[StringInterner.userInfoKey]` holds one; pass
/// the same interner to every decode that fills one cache. Strings of up to 15 UTF-8 bytes are
/// stored inline by Swift and are returned as they are. Safe to share between threads.
public final class StringInterner: Sendable {
    public static let userInfoKey = CodingUserInfoKey(rawValue: "netwatch.stringInterner")!

    private let table = Mutex<Set<String>>([])
    /// Held strings by the hash of their bytes (a collision keeps the later one).
    private let byBytes = Mutex<[Int: String]>([:])

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
