public import ConfigGen
import DataTree
public import Flows
import Foundation
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

    func files(under paths: [String], errors: inout [String]) -> [String] {
        var result: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                errors.append("\(path): no such file or directory")
                continue
            }
            guard isDirectory.boolValue else {
                result.append(path)
                continue
            }
            let entries = (manager.enumerator(atPath: path)?.allObjects as? [String]) ?? []
            for entry in entries.sorted() where Self.isManifest(entry) {
                let full = path.hasSuffix("/") ? path + entry : path + "/" + entry
                var entryIsDirectory: ObjCBool = false
                if manager.fileExists(atPath: full, isDirectory: &entryIsDirectory), !entryIsDirectory.boolValue {
                    result.append(full)
                }
            }
        }
        return result
    }

    static func isManifest(_ name: String) -> Bool {
        name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json") || name.hasSuffix(".jsonl")
    }
}
