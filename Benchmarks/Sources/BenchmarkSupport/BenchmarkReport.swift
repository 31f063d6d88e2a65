import Foundation

/// Figures a benchmark measured, written for `make bench`'s comparison with the committed
/// baseline (`hack/bench-report`): one JSON object per line appended to the file named by
/// `NETWATCH_BENCH_RESULTS`. Without that variable nothing is written, so a benchmark run by
/// hand only prints.
public enum BenchmarkReport {
    /// Which way a figure improves.
    public enum Better: String, Sendable {
        case lower, higher
    }

    /// Records one figure. `name` is stable across runs (the baseline is matched on it);
    /// `target` is the figure the issue or DESIGN.md asks for, if there is one.
    public static func record(_ name: String, _ value: Double, unit: String, better: Better, target: Double? = nil) {
        guard let path = ProcessInfo.processInfo.environment["NETWATCH_BENCH_RESULTS"], !path.isEmpty, value.isFinite else { return }
        var figure: [String: Any] = [
            "benchmark": URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent,
            "name": name, "value": value, "unit": unit, "better": better.rawValue,
        ]
        if let target { figure["target"] = target }
        guard var line = try? JSONSerialization.data(withJSONObject: figure, options: [.sortedKeys]) else { return }
        line.append(UInt8(ascii: "\n"))
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        handle.seekToEndOfFile()
        handle.write(line)
        handle.closeFile()
    }
}

/// Milliseconds in a `Duration`.
public func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}
