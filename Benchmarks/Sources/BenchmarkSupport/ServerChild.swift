import Foundation

/// The benchmark's own executable re-run as `serve N`, holding the test API server in a child
/// process so the measured client's CPU and memory are its own.
public struct ServerChild {
    let process: Process
    let input: Pipe
    /// The first line the child printed (e.g. `PORT 12345 BYTES 470000000`), split on spaces.
    public let header: [String]

    public init(pods: Int, extra: [String] = []) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["serve", String(pods)] + extra
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = ""
        while !line.hasSuffix("\n") {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { fatalError("the server process exited") }
            line += String(decoding: byte, as: UTF8.self)
        }
        header = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
    }

    /// The value after `key` in the header line.
    public func value(_ key: String) -> String? {
        header.firstIndex(of: key).flatMap { $0 + 1 < header.count ? header[$0 + 1] : nil }
    }

    /// Closes the child's stdin (it stops serving) and waits for it.
    public func stop() {
        input.fileHandleForWriting.closeFile()
        process.waitUntilExit()
    }
}

/// A field of /proc/self/status in megabytes (`VmRSS`, `VmHWM`).
public func residentMegabytes(_ field: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kilobytes / 1024
}
