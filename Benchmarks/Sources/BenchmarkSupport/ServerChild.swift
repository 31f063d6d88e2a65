import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

    /// CPU time the server process has used so far, user and system, in seconds (from
    /// /proc/PID/stat), to tell its share of a measurement from the client's.
    public var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name; utime and stime are the 14th and 15th of the line.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
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
