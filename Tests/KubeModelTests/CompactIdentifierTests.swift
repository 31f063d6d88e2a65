@testable import KubeModel
import Testing

@Suite("Compact uids and container IDs give back exactly the text they were made from")
struct CompactIdentifierTests {
    static let uuid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    static let sha = "containerd://4b9a7c1e2f0d3a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3"

    /// Texts near the packed forms: each must round-trip, whether packed or not.
    static let near: [String] = [
        uuid, uuid.uppercased(), String(uuid.dropLast()), uuid + "0", String(uuid.map { $0 == "-" ? "_" : $0 }),
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "g" + uuid.dropFirst(), "",
        sha, sha.uppercased(), "docker://" + sha.dropFirst(13), "cri-o://" + sha.dropFirst(13), "containerd:/" + sha.dropFirst(12),
        String(sha.dropLast()), sha + "0", "a-very-long-runtime-name://" + sha.dropFirst(13), "://" + sha.dropFirst(13),
        "con:tainerd://" + sha.dropFirst(13), "containerd://" + String(repeating: "0", count: 64), "containerd://" + String(repeating: "f", count: 64),
        "é" + uuid.dropFirst(), "containerd://abc",
    ]

    @Test("round trip and equality exactly as the texts'", arguments: near)
    func roundTrip(_ text: String) {
        #expect(CompactUID(text).string == text)
        #expect(CompactContainerID(text).string == text)
        var copy = text
        copy.withUTF8 { bytes in
            #expect(CompactUID(utf8: bytes).string == text)
            #expect(CompactContainerID(utf8: bytes).string == text)
        }
        for other in Self.near {
            #expect((CompactUID(text) == CompactUID(other)) == (text == other), "\(text) vs \(other)")
            #expect((CompactContainerID(text) == CompactContainerID(other)) == (text == other), "\(text) vs \(other)")
            if text == other { #expect(CompactUID(text).hashValue == CompactUID(other).hashValue) }
        }
    }

    @Test("random lowercase UUIDs and SHA-256 container IDs round-trip through the packed form")
    func randomPacked() {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        func digits(_ count: Int) -> String { String((0..<count).map { _ in hex.randomElement(using: &generator)! }) }
        for _ in 0..<1_000 {
            let uid = [digits(8), digits(4), digits(4), digits(4), digits(12)].joined(separator: "-")
            let id = ["containerd", "docker", "cri-o"].randomElement(using: &generator)! + "://" + digits(64)
            #expect(CompactUID(uid).string == uid)
            #expect(CompactContainerID(id).string == id)
        }
    }

    @Test("the eight-at-a-time hex reader agrees with the byte loop on any 16 bytes")
    func wordAgreesWithLoop() {
        var generator = SystemRandomNumberGenerator()
        // Mostly valid digits with a few bytes from anywhere, so both outcomes are common.
        let digits = Array("0123456789abcdef".utf8)
        for round in 0..<20_000 {
            var bytes = (0..<16).map { _ in digits.randomElement(using: &generator)! }
            for _ in 0..<(round % 3) { bytes[Int.random(in: 0..<16, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            bytes.withUnsafeBufferPointer { buffer in
                #expect(HexWords.word(buffer.baseAddress!) == HexWords.value(buffer, 0..<16), "\(bytes)")
            }
        }
        for edge in ["/", ":", "@", "`", "g", "A", "F", "G", "\u{7F}"] {
            let bytes = Array(("0123456789abcde" + edge).utf8)
            bytes.withUnsafeBufferPointer { buffer in #expect(HexWords.word(buffer.baseAddress!) == nil, "\(edge)") }
        }
    }

    @Test("a pod's uid and container ID set through the public fields read back as set")
    func publicFields() {
        var meta = ObjectMeta(name: "p", uid: Self.uuid)
        #expect(meta.uid == Self.uuid)
        meta.uid = "not-a-uuid"
        #expect(meta.uid == "not-a-uuid")
        meta.uid = nil
        #expect(meta.uid == nil)
        var status = PodStatus.ContainerStatus(name: "app", containerID: Self.sha)
        #expect(status.containerID == Self.sha)
        status.containerID = "docker://short"
        #expect(status.containerID == "docker://short")
    }
}
