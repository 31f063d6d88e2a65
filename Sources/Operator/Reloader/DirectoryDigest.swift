import ConfigGen
import Foundation

/// A content digest of the files under some directories, as a process reading them sees them.
///
/// Symbolic links are followed, so a Kubernetes ConfigMap volume (visible names linking through
/// `..data` to a timestamped directory the kubelet swaps atomically) digests to its content;
/// names starting with "." (`..data`, the timestamped directories, netwatch's own
/// `.netwatch-files` and temporary files) are skipped. A directory reached again through a link
/// (`w/a -> .`) is not entered again, so link loops end and a scan is bounded by what exists.
/// Timestamps play no part: touching a file changes nothing, and the same content always gives
/// the same digest.
public struct DirectoryDigest: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt64
    public var files: Int

    public init(value: UInt64, files: Int) {
        self.value = value
        self.files = files
    }

    public var description: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Digests `directories` in the given order; a missing or unreadable directory or file
    /// contributes its path and a marker, so it appearing later is a change.
    public static func of(_ directories: [String]) -> DirectoryDigest {
        var hash = FNV1a64()
        var files = 0
        var visited: Set<String> = []
        for directory in directories {
            hash.add(Array("dir \(directory)\n".utf8))
            add(directory: directory, relative: "", into: &hash, files: &files, visited: &visited)
        }
        return DirectoryDigest(value: hash.value, files: files)
    }

    private static func add(directory: String, relative: String, into hash: inout FNV1a64, files: inout Int, visited: inout Set<String>) {
        // Identified by the path with every link resolved (not stat's device and inode, which
        // Foundation's module graph does not export portably).
        if !visited.insert(URL(fileURLWithPath: directory).resolvingSymlinksInPath().path).inserted {
            hash.add(Array("again \(relative)\n".utf8))  // a loop, or a second link to the same directory
            return
        }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            hash.add(Array("unreadable \(relative)\n".utf8))
            return
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory + "/" + name
            let key = relative.isEmpty ? name : relative + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                hash.add(Array("dangling \(key)\n".utf8))  // a link whose target is gone
                continue
            }
            if isDirectory.boolValue {
                add(directory: path, relative: key, into: &hash, files: &files, visited: &visited)
            } else if let data = FileManager.default.contents(atPath: path) {
                hash.add(Array("file \(key) \(data.count)\n".utf8))
                hash.add([UInt8](data))
                files += 1
            } else {
                hash.add(Array("unreadable \(key)\n".utf8))
            }
        }
    }
}
