// swift-tools-version:6.2
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode comes from the tools version;
/// these make imports and existentials explicit (hummingbird's settings).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "netwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "netwatch", targets: ["netwatch"]),
        .executable(name: "netwatch-dev-apiserver", targets: ["netwatch-dev-apiserver"]),
        .library(name: "ConfigGen", targets: ["ConfigGen", "NetWatchAPI", "KubeModel", "DataTree"]),
        .library(name: "KubeClient", targets: ["KubeClient", "CurlTransport"]),
        .library(name: "KubeTesting", targets: ["KubeTesting"]),
        .library(name: "Operator", targets: ["Operator", "KubeRuntime"]),
        .library(name: "CAllocator", targets: ["CAllocator"]),
        .library(name: "Flows", targets: ["Flows"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already dependencies of hummingbird; named so the test API server can build TLS settings.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The webhook's serving certificates: a CA and leaf certificates made and checked in Swift.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from the system, behind typed shims.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Pure targets: no I/O, no clock, no environment.
        .target(name: "DataTree", swiftSettings: strictSettings),
        .target(name: "KubeModel", dependencies: ["DataTree"], swiftSettings: strictSettings),
        .target(name: "NetWatchAPI", dependencies: ["DataTree", "KubeModel"], swiftSettings: strictSettings),
        // Flow records: IPFIX/NetFlow v9 decoding, connections, identities, policies (pure: bytes in).
        .target(name: "Flows", dependencies: ["DataTree", "KubeModel"], swiftSettings: strictSettings),
        .target(name: "ConfigGen", dependencies: ["DataTree", "YAML", "KubeModel", "NetWatchAPI", "Flows"], swiftSettings: strictSettings),

        // Adapters.
        .target(name: "YAML", dependencies: ["CYAML", "DataTree"], swiftSettings: strictSettings),
        .target(name: "RenderIO", dependencies: ["ConfigGen", "YAML", "DataTree", "KubeModel", "NetWatchAPI", "Flows"], swiftSettings: strictSettings),
        .target(
            name: "KubeClient",
            dependencies: ["KubeModel", "DataTree", "YAML", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CurlTransport",
            dependencies: ["CCurl", "KubeClient", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KubeTesting",
            dependencies: [
                "KubeModel", "DataTree", "YAML", "NetWatchAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "KubeRuntime",
            dependencies: ["KubeClient", "KubeModel", "DataTree", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // The allocator's release and accounting calls (glibc), which Swift's Glibc module omits.
        .target(name: "CAllocator"),
        .target(
            name: "Operator",
            dependencies: [
                "CAllocator", "KubeRuntime", "NetWatchAPI", "KubeClient", "KubeModel", "DataTree", "ConfigGen", "RenderIO", "YAML", "Flows",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "netwatch-dev-apiserver",
            dependencies: [
                "KubeTesting", "RenderIO", "KubeModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        .executableTarget(
            name: "netwatch",
            dependencies: [
                "RenderIO", "ConfigGen", "NetWatchAPI", "KubeModel", "Operator", "KubeClient", "CurlTransport", "DataTree", "YAML", "Flows",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        .testTarget(name: "DataTreeTests", dependencies: ["DataTree", "YAML", "KubeTesting"], swiftSettings: strictSettings),
        .testTarget(name: "FlowsTests", dependencies: ["Flows", "DataTree", "KubeModel", "YAML", "KubeTesting"], exclude: ["Golden", "Fixtures"], swiftSettings: strictSettings),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "DataTree", "KubeTesting"], swiftSettings: strictSettings),
        .testTarget(name: "CCurlTests", dependencies: ["CCurl"], swiftSettings: strictSettings),
        .testTarget(name: "KubeModelTests", dependencies: ["KubeModel", "DataTree", "YAML"], swiftSettings: strictSettings),
        .testTarget(name: "NetWatchAPITests", dependencies: ["NetWatchAPI", "KubeModel", "DataTree", "YAML"], swiftSettings: strictSettings),
        .testTarget(
            name: "ConfigGenTests",
            dependencies: ["ConfigGen", "RenderIO", "NetWatchAPI", "KubeModel", "DataTree", "YAML", "KubeTesting", "Flows"],
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: ["KubeClient", "CurlTransport", "KubeTesting", "KubeModel", "DataTree", "YAML", "NetWatchAPI", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "KubeRuntimeTests",
            dependencies: ["KubeRuntime", "KubeClient", "CurlTransport", "KubeTesting", "KubeModel", "DataTree", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OperatorTests",
            dependencies: ["Operator", "KubeRuntime", "KubeClient", "CurlTransport", "KubeTesting", "KubeModel", "DataTree", "YAML", "RenderIO", "ConfigGen", .product(name: "Logging", package: "swift-log"), .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["RenderIO", "ConfigGen", "KubeModel", "NetWatchAPI", "KubeTesting", "DataTree", "Flows", "YAML"], swiftSettings: strictSettings),
    ]
)
