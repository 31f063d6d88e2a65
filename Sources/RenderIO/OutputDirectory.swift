public import ConfigGen
import Foundation
import Glibc

/// An output directory netwatch owns: writes artifacts atomically, leaves unchanged files
/// untouched, and removes files it wrote before that are no longer generated.
///
/// ## Guarantees
/// - A file whose bytes are unchanged is not rewritten (its mtime stays), so watchers and
///   Prometheus see no change.
/// - Each write goes to a temporary file in the same directory and is renamed into place, so
///   readers never see a partial file.
/// - Nothing is ever written or removed outside `root`: every path is checked before use — not
///   empty, not absolute, no `.`/`..`/empty component — and no directory between `root` and
///   the file may be a symbolic link. An artifact path that fails is an error and nothing is
///   written.
/// - Only regular files listed in the previous run's manifest (`.netwatch-files`) are ever
///   deleted — never a directory, never through a symbolic link — so pointing netwatch at a
///   directory with other content never loses that content. A manifest line that breaks those
///   rules is reported in `Changes.warnings` and left alone.
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
        /// Manifest lines not acted on, with the reason (never a file content).
        public var warnings: [String] = []
    }

    /// Why `relative` cannot name a file inside the root, or nil when it can.
    public static func problem(with relative: String) -> String? {
        if relative.isEmpty { return "an empty path" }
        if relative.hasPrefix("/") { return "an absolute path" }
        if relative.utf8.contains(0) { return "a path with a NUL byte" }
        for component in relative.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty || component == "." || component == ".." { return "a path with an empty, . or .. component" }
        }
        return nil
    }

    /// The first directory between the root and `relative`'s file that is a symbolic link or
    /// not a directory; nil when every existing one is a real directory.
    func unsafeAncestor(of relative: String) -> String? {
        var path = root
        for component in relative.split(separator: "/").dropLast() {
            path += "/" + component
            var info = stat()
            guard lstat(path, &info) == 0 else { return nil }  // created by us from here on
            if info.st_mode & S_IFMT != S_IFDIR { return path }
        }
        return nil
    }

    /// The full path of a checked relative path.
    func checkedPath(_ relative: String) throws -> String {
        if let problem = Self.problem(with: relative) {
            throw OutputError(message: "\(relative): refused, \(problem) cannot name a file inside \(root)")
        }
        if let ancestor = unsafeAncestor(of: relative) {
            throw OutputError(message: "\(relative): refused, \(ancestor) is a symbolic link or not a directory; netwatch writes only inside \(root)")
        }
        return "\(root)/\(relative)"
    }

    public func write(_ artifacts: [Artifact]) throws -> Changes {
        var changes = Changes()
        let manager = FileManager.default
        var rootInfo = stat()
        if stat(root, &rootInfo) == 0, rootInfo.st_mode & S_IFMT != S_IFDIR {
            throw OutputError(message: "\(root): exists and is not a directory; choose an output directory")
        }
        try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
        // Every path is checked before anything is written.
        let paths = try artifacts.map { artifact in
            do {
                return try checkedPath(artifact.path)
            } catch let error as OutputError {
                throw OutputError(message: error.message + "; nothing was written")
            }
        }
        removeStaleTemporaries()
        let previous = readManifest(warnings: &changes.warnings)
        let current = artifacts.map(\.path)
        for (artifact, path) in zip(artifacts, paths) {
            if let existing = manager.contents(atPath: path), [UInt8](existing) == artifact.bytes {
                changes.unchanged += 1
                continue
            }
            try writeAtomically(artifact.bytes, to: path, ownerOnly: artifact.isSensitive)
            changes.written.append(artifact.path)
        }
        for stale in Set(previous).subtracting(current).sorted() {
            if let ancestor = unsafeAncestor(of: stale) {
                changes.warnings.append("\(Self.manifestName): \(stale) is not removed: \(ancestor) is a symbolic link or not a directory")
                continue
            }
            let path = "\(root)/\(stale)"
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }  // already gone
            guard info.st_mode & S_IFMT == S_IFREG else {
                changes.warnings.append("\(Self.manifestName): \(stale) is not removed: it is not a regular file, and netwatch writes only regular files")
                continue
            }
            guard unlink(path) == 0 else {
                throw OutputError(message: "\(path): cannot be removed (\(String(cString: strerror(errno))))")
            }
            changes.removed.append(stale)
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
            try writeAtomically(artifact.bytes, to: try checkedPath(artifact.path), ownerOnly: artifact.isSensitive)
        }
    }

    /// The previous run's paths that can name a file inside the root; other lines are warnings.
    func readManifest(warnings: inout [String]) -> [String] {
        guard let data = FileManager.default.contents(atPath: "\(root)/\(Self.manifestName)") else { return [] }
        var paths: [String] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init) {
            if let problem = Self.problem(with: line) {
                warnings.append("\(Self.manifestName): the line \"\(line)\" is ignored: \(problem) cannot name a file netwatch wrote")
            } else {
                paths.append(line)
            }
        }
        return paths
    }

    func readManifest() -> [String] {
        var warnings: [String] = []
        return readManifest(warnings: &warnings)
    }

    /// Removes the temporary files (`.<name>.tmp-<pid>`) a killed writer left behind: regular
    /// files of that exact form, of another process, inside the root (links are not followed).
    func removeStaleTemporaries() {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return }
        let own = "\(getpid())"
        while let relative = enumerator.nextObject() as? String {
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards) else { continue }
            let pid = name[marker.upperBound...]
            guard !pid.isEmpty, pid.allSatisfy(\.isNumber), pid != own else { continue }
            var info = stat()
            let path = "\(root)/\(relative)"
            if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, unsafeAncestor(of: relative) == nil { unlink(path) }
        }
    }

    /// `ownerOnly`: mode 0600 from creation on (open with O_CREAT|O_EXCL), so a credential is
    /// never readable by others, not even between the write and a chmod.
    func writeAtomically(_ bytes: [UInt8], to path: String, ownerOnly: Bool = false) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).tmp-\(getpid())"
        let created = Self.create(temporary, bytes, mode: ownerOnly ? 0o600 : 0o666)
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
    /// Creates `path` holding `bytes`, with `mode` less the umask from creation on (open with
    /// O_CREAT|O_EXCL, so no other mode ever exists: 0600 keeps a credential from others even
    /// between the write and a chmod). One open and one write: Foundation's `createFile` would
    /// write a temporary file of its own and fsync it, which at 2,000 files made writing the
    /// output most of the operator's start. Not fsynced: the output is derived state that the
    /// operator compares with what it renders, and rewrites, at every start.
    static func create(_ path: String, _ bytes: [UInt8], mode: mode_t) -> Bool {
        unlink(path)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
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
