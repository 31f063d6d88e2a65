public import ConfigGen
import Foundation

/// Compares what render would write with what an output directory holds, as a unified diff
/// (`diff -u`, one hunk set per changed file; new and removed files diff against /dev/null).
public struct StaleCheck: Sendable {
    public let directory: OutputDirectory

    public init(directory: OutputDirectory) {
        self.directory = directory
    }

    /// The diff, empty when the directory is up to date.
    public func diff(_ artifacts: [Artifact]) throws -> String {
        let manager = FileManager.default
        let scratch = manager.temporaryDirectory.appendingPathComponent("netwatch-check-\(UUID().uuidString)").path
        try manager.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: scratch) }
        var output = ""
        var expected = Set<String>()
        for (index, artifact) in artifacts.enumerated() {
            expected.insert(artifact.path)
            let current = "\(directory.root)/\(artifact.path)"
            if let existing = manager.contents(atPath: current), [UInt8](existing) == artifact.bytes { continue }
            let proposed = "\(scratch)/\(index)"
            guard manager.createFile(atPath: proposed, contents: Data(artifact.bytes)) else {
                throw OutputError(message: "\(proposed): cannot be written")
            }
            let old = manager.fileExists(atPath: current) ? current : "/dev/null"
            output += try unifiedDiff(old: old, new: proposed, label: artifact.path)
        }
        for stale in directory.readManifest().sorted() where !expected.contains(stale) {
            let current = "\(directory.root)/\(stale)"
            if manager.fileExists(atPath: current) {
                output += try unifiedDiff(old: current, new: "/dev/null", label: stale)
            }
        }
        return output
    }

    func unifiedDiff(old: String, new: String, label: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/diff")
        process.arguments = ["-u", "--label", "a/\(label)", "--label", "b/\(label)", old, new]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
