// swift-tools-version:6.2
import PackageDescription

// Benchmarks live in their own package so the main build stays lean. Run with `make bench`
// (release build, one process, wall time from ContinuousClock, peak RSS from /proc).
let package = Package(
    name: "NetwatchBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "NetwatchBenchmarks",
            dependencies: [.product(name: "ConfigGen", package: "main")]
        )
    ]
)
