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
        .library(name: "ConfigGen", targets: ["ConfigGen", "NetWatchAPI", "KubeModel", "DataTree"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries from the system, behind typed shims.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Pure targets: no I/O, no clock, no environment.
        .target(name: "DataTree", swiftSettings: strictSettings),
        .target(name: "KubeModel", dependencies: ["DataTree"], swiftSettings: strictSettings),
        .target(name: "NetWatchAPI", dependencies: ["DataTree", "KubeModel"], swiftSettings: strictSettings),
        .target(name: "ConfigGen", dependencies: ["DataTree", "YAML", "KubeModel", "NetWatchAPI"], swiftSettings: strictSettings),

        // Adapters.
        .target(name: "YAML", dependencies: ["CYAML", "DataTree"], swiftSettings: strictSettings),
        .target(name: "RenderIO", dependencies: ["ConfigGen", "YAML", "DataTree", "KubeModel", "NetWatchAPI"], swiftSettings: strictSettings),

        .executableTarget(
            name: "netwatch",
            dependencies: [
                "RenderIO", "ConfigGen", "NetWatchAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),

        .testTarget(name: "DataTreeTests", dependencies: ["DataTree"], swiftSettings: strictSettings),
        .testTarget(name: "YAMLTests", dependencies: ["YAML", "DataTree"], swiftSettings: strictSettings),
        .testTarget(name: "CCurlTests", dependencies: ["CCurl"], swiftSettings: strictSettings),
        .testTarget(name: "KubeModelTests", dependencies: ["KubeModel", "DataTree", "YAML"], swiftSettings: strictSettings),
        .testTarget(name: "NetWatchAPITests", dependencies: ["NetWatchAPI", "KubeModel", "DataTree", "YAML"], swiftSettings: strictSettings),
        .testTarget(
            name: "ConfigGenTests",
            dependencies: ["ConfigGen", "RenderIO", "NetWatchAPI", "KubeModel", "DataTree", "YAML"],
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "EndToEndTests", dependencies: ["RenderIO", "ConfigGen", "KubeModel", "NetWatchAPI"], swiftSettings: strictSettings),
    ]
)
