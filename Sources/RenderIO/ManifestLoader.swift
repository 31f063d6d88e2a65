public import ConfigGen
import DataTree
public import Flows
import Foundation
import Glibc
public import KubeModel
import YAML

/// Reads manifests from disk for `netwatch render` and `netwatch validate`: every `.yaml`,
/// `.yml` and `.json` file under the given paths (recursively, in sorted order), and observed
/// connections from `.jsonl` flow files (`netwatch flows collect` output) and from Hubble
/// records (`hubble observe -o json`, `.json` or `.jsonl`, recognised by their `flow` objects).
public struct ManifestLoader: Sendable {
    /// The outcome of loading: raw objects, problems with individual objects, and files that
    /// could not be read or parsed at all.
    public struct Loaded: Sendable {
        public var objects: [RawObject]
        public var diagnostics: [Diagnostic]
        /// Connections from `.jsonl` flow files; a bad line is a diagnostic with its file and line.
        public var connections: [ObservedConnection] = []

        /// The snapshot `render` reads: the decoded objects and the connections.
        public func snapshot() -> (Snapshot, [Diagnostic]) {
            var (snapshot, problems) = Snapshot.decode(objects)
            snapshot.observedConnections = connections
            return (snapshot, problems)
        }
        /// Unusable files (unreadable, malformed YAML/JSON). Any of these makes the input unusable.
        public var fileErrors: [String]
    }

    public init() {}

    public func load(paths: [String]) -> Loaded {
        var loaded = Loaded(objects: [], diagnostics: [], fileErrors: [])
        for file in files(under: paths, errors: &loaded.fileErrors) {
            guard let data = FileManager.default.contents(atPath: file) else {
                loaded.fileErrors.append("\(file): cannot be read; check that it exists and is readable")
                continue
            }
            if file.hasSuffix(".json") || file.hasSuffix(".jsonl"), HubbleFlows.looksLikeHubble([UInt8](data)) {
                let decoded = HubbleFlows.decode([UInt8](data))
                loaded.connections += decoded.connections
                loaded.diagnostics += decoded.problems.map {
                    Diagnostic(.error, source: SourceLocation(file: file, line: $0.line), message: "\($0.message); the record is skipped")
                }
                continue
            }
            if file.hasSuffix(".jsonl") {
                let (connections, problems) = ConnectionLines.decode([UInt8](data))
                loaded.connections += connections
                loaded.diagnostics += problems.map {
                    Diagnostic(.error, source: SourceLocation(file: file, line: $0.line), message: "\($0.message); the line is skipped")
                }
                continue
            }
            do {
                for document in try YAMLParser().parse([UInt8](data), file: file) {
                    let (objects, problems) = ObjectReader.rawObjects(from: document.node, source: SourceLocation(file: file, line: document.line))
                    loaded.objects += objects
                    loaded.diagnostics += problems
                }
            } catch {
                loaded.fileErrors.append(error.description)
            }
        }
        return loaded
    }

    /// The manifest files under `paths`, in sorted order, each once.
    ///
    /// Symbolic links are followed, to files and to directories (an input given as a link to a
    /// directory is that directory); a directory reached twice (a link loop, or two links to
    /// it) is read once. Entries named `..*` are skipped: in a directory the kubelet mounts from
    /// a ConfigMap or Secret, the files are links into `..data`, the current `..<timestamp>`
    /// directory, so skipping those reads each file once. Anything that cannot be read — a
    /// missing path, a broken link, a directory without permission — is an error, so a caller
    /// never mistakes an unreadable input for an empty one.
    func files(under paths: [String], errors: inout [String]) -> [String] {
        var result: [String] = []
        var visited = Set<FileIdentity>()
        for path in paths {
            walk(path, isInput: true, visited: &visited, into: &result, errors: &errors)
        }
        return result
    }

    /// A file or directory by device and inode, so links to it are recognised.
    struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private func walk(_ path: String, isInput: Bool, visited: inout Set<FileIdentity>, into result: inout [String], errors: inout [String]) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? (lstat(path, &info) == 0 ? "a symbolic link to nothing" : "no such file or directory") : String(cString: strerror(errno))
            errors.append("\(path): cannot be read (\(reason))")
            return
        }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        guard visited.insert(identity).inserted else { return }  // a loop, or a second link to the same file
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            let entries: [String]
            do {
                entries = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                errors.append("\(path): cannot be read (\(access(path, R_OK | X_OK) == 0 ? "\(error)" : "permission denied"))")
                return
            }
            for entry in entries.sorted() where !entry.hasPrefix("..") {
                let full = path.hasSuffix("/") ? path + entry : path + "/" + entry
                var target = stat()
                let readable = stat(full, &target) == 0
                // Manifests, directories and anything that cannot be resolved (reported); other
                // files are skipped without being opened.
                if !readable || Self.isManifest(entry) || target.st_mode & S_IFMT == S_IFDIR {
                    walk(full, isInput: false, visited: &visited, into: &result, errors: &errors)
                }
            }
        case S_IFREG:
            if isInput || Self.isManifest(path) { result.append(path) }
        default:
            if isInput { errors.append("\(path): not a regular file or directory") }
        }
    }

    static func isManifest(_ name: String) -> Bool {
        name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json") || name.hasSuffix(".jsonl")
    }
}
