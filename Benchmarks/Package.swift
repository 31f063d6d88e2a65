// swift-tools-version:6.2
import PackageDescription

// Benchmarks live in their own package so the main build stays lean. Run with `make bench`
// (release builds, wall time from ContinuousClock, memory from /proc and mallinfo2).
let package = Package(
    name: "NetwatchBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "RenderBenchmark",
            dependencies: ["BenchmarkSupport", .product(name: "ConfigGen", package: "main")]
        ),
        .executableTarget(
            name: "DashboardBenchmark",
            dependencies: ["BenchmarkSupport", .product(name: "ConfigGen", package: "main")]
        ),
        .executableTarget(
            name: "AlertsBenchmark",
            dependencies: ["BenchmarkSupport", .product(name: "ConfigGen", package: "main")]
        ),
        .executableTarget(
            name: "InjectionBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ConfigGen", package: "main"),
                .product(name: "Operator", package: "main"),
                .product(name: "KubeClient", package: "main"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "FlowsBenchmark",
            dependencies: ["BenchmarkSupport", .product(name: "Flows", package: "main"), .product(name: "ConfigGen", package: "main")]
        ),
        .executableTarget(
            name: "FlowMemoryBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Flows", package: "main"),
                .product(name: "Operator", package: "main"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "BenchmarkSupport"),
        .executableTarget(
            name: "ClientBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "CAllocator", package: "main"),
                .product(name: "KubeClient", package: "main"),
                .product(name: "KubeTesting", package: "main"),
                .product(name: "ConfigGen", package: "main"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "OperatorBenchmark",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "CAllocator", package: "main"),
                .product(name: "Operator", package: "main"),
                .product(name: "KubeClient", package: "main"),
                .product(name: "KubeTesting", package: "main"),
                .product(name: "ConfigGen", package: "main"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
