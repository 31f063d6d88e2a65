public import ConfigGen
import Foundation

/// An output directory netwatch owns: writes artifacts atomically, leaves unchanged files
/// untouched, and removes files it wrote before that are no longer generated.
///
/// ## Guarantees
/// - A file whose bytes are unchanged is not rewritten (its mtime stays), so watchers and
///   Prometheus see no change.
/// - Each write goes to a temporary file in the same directory and is renamed into place, so
///   readers never see a partial file.
/// - Only files listed in the previous run's manifest (`.netwatch-files`) are ever deleted, so
///   pointing netwatch at a directory with other content never loses that content.
public struct OutputDirectory: Sendable {
    public static let manifestName = ".netwatch-files"

    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// What a write changed.
    public struct Changes: Sendable, Hashable {
        public var written: [String] = []
        public var removed: [String] = []
        public var unchanged = 0
    }

    public func write(_ artifacts: [Artifact]) throws -> Changes {
        var changes = Changes()
        let manager = FileManager.default
        try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
        let previous = Set(readManifest())
        let current = artifacts.map(\.path)
        for artifact in artifacts {
            let path = "\(root)/\(artifact.path)"
            if let existing = manager.contents(atPath: path), [UInt8](existing) == artifact.bytes {
                changes.unchanged += 1
                continue
            }
            try writeAtomically(artifact.bytes, to: path, ownerOnly: artifact.isSensitive)
            changes.written.append(artifact.path)
        }
        for stale in previous.subtracting(current).sorted() {
            let path = "\(root)/\(stale)"
            if manager.fileExists(atPath: path) {
                try manager.removeItem(atPath: path)
                changes.removed.append(stale)
            }
        }
        let manifest = Array((current.sorted().joined(separator: "\n") + "\n").utf8)
        let manifestPath = "\(root)/\(Self.manifestName)"
        if manager.contents(atPath: manifestPath).map([UInt8].init) != manifest {
            try writeAtomically(manifest, to: manifestPath)
        }
        return changes
    }

    /// Writes artifacts the caller knows changed since its last `write` (an incremental update):
    /// no comparison with the files on disk, no pruning, and the manifest is left as it is, so
    /// every path must already be in it.
    public func replace(_ artifacts: [Artifact]) throws {
        for artifact in artifacts {
            try writeAtomically(artifact.bytes, to: "\(root)/\(artifact.path)", ownerOnly: artifact.isSensitive)
        }
    }

    func readManifest() -> [String] {
        guard let data = FileManager.default.contents(atPath: "\(root)/\(Self.manifestName)") else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.contains("..") }
    }

    /// `ownerOnly`: mode 0600 from creation on, so a credential is never readable by others,
    /// not even between the write and a chmod.
    func writeAtomically(_ bytes: [UInt8], to path: String, ownerOnly: Bool = false) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
        let created = ownerOnly ? Self.createOwnerOnly(temporary, bytes) : FileManager.default.createFile(atPath: temporary, contents: Data(bytes))
        guard created else {
            throw OutputError(message: "\(temporary): cannot be written; check permissions and free space")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw OutputError(message: "\(path): cannot be replaced (errno \(errno))")
        }
    }
}

extension OutputDirectory {
    /// Creates `path` with mode 0600 (open with O_CREAT|O_EXCL, so no other mode ever exists).
    static func createOwnerOnly(_ path: String, _ bytes: [UInt8]) -> Bool {
        unlink(path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBufferPointer { Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return false }
            written += result
        }
        return true
    }
}

public struct OutputError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
