// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "qila",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "qila", targets: ["qila"]),
        .library(name: "QilaCore", targets: ["QilaCore"]),
        .library(name: "QilaStore", targets: ["QilaStore"]),
        .library(name: "QilaDetect", targets: ["QilaDetect"]),
        .library(name: "QilaFlows", targets: ["QilaFlows"]),
        .library(name: "QilaAccess", targets: ["QilaAccess"]),
        .library(name: "QilaRetention", targets: ["QilaRetention"]),
        .library(name: "QilaCases", targets: ["QilaCases"]),
        .library(name: "QilaIngest", targets: ["QilaIngest"]),
        .library(name: "QilaIntel", targets: ["QilaIntel"]),
        .library(name: "QilaAssess", targets: ["QilaAssess"]),
        .library(name: "QilaPublic", targets: ["QilaPublic"]),
        .library(name: "QilaTraining", targets: ["QilaTraining"]),
        .library(name: "QilaOversight", targets: ["QilaOversight"]),
        .library(name: "QilaVulnerabilities", targets: ["QilaVulnerabilities"]),
        .library(name: "QilaWeb", targets: ["QilaWeb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "QilaCore",
            dependencies: ["CQilaCRC", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "QilaDetect",
            dependencies: [
                "QilaCore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("mappings")],
            swiftSettings: strict
        ),
        .target(
            name: "QilaFlows",
            dependencies: [
                "QilaCore",
                "CQilaSystem",
                "CQilaFrames",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QilaStore",
            dependencies: [
                "QilaCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QilaAccess",
            dependencies: [
                "QilaCore",
                "QilaStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [.copy("Passwords/blocklist.txt")],
            swiftSettings: strict
        ),
        .target(
            name: "QilaCases",
            dependencies: [
                "QilaCore",
                "QilaStore",
                "QilaAccess",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.copy("regimes")],
            swiftSettings: strict
        ),
        .target(name: "CQilaCRC"),
        .target(name: "CQilaSystem"),
        .target(name: "CQilaFrames"),
        .target(name: "CQilaProcess"),
        .target(
            name: "QilaIngest",
            dependencies: [
                "QilaCore",
                "QilaAccess",
                "QilaDetect",
                "QilaStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QilaRetention",
            dependencies: [
                "QilaCore",
                "QilaStore",
                "QilaAccess",
                "QilaFlows",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QilaIntel",
            dependencies: [
                "QilaCore",
                "QilaStore",
                "QilaAccess",
                "QilaDetect",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QilaAssess",
            dependencies: [
                "QilaCore",
                "QilaStore",
                "QilaAccess",
                "QilaCases",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("frameworks"), .copy("weights")],
            swiftSettings: strict
        ),
        .target(
            name: "QilaPublic",
            dependencies: [
                "QilaCore",
                "QilaStore",
                "QilaAccess",
                "QilaCases",
                "QilaIntel",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("text")],
            swiftSettings: strict
        ),
        .target(
            name: "QilaTraining",
            dependencies: [
                "QilaCore",
                "QilaStore",
                "QilaAccess",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QilaVulnerabilities",
            dependencies: [
                "QilaCore", "QilaStore", "QilaAccess", "QilaCases", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "QilaOversight",
            dependencies: ["QilaCore", "QilaStore", "QilaAccess", "QilaCases", "QilaAssess", "QilaTraining", "QilaRetention", "QilaVulnerabilities"],
            swiftSettings: strict
        ),
        .target(
            name: "QilaWeb",
            dependencies: [
                "QilaOversight",
                "QilaVulnerabilities",
                "QilaPublic",
                "QilaTraining",
                "QilaIntel",
                "QilaAssess",
                "QilaCore",
                "QilaStore",
                "QilaAccess",
                "QilaFlows",
                "QilaRetention",
                "QilaCases",
                "QilaIngest",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Templates"), .copy("Assets"), .copy("openapi.yaml")],
            swiftSettings: strict,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "QilaTestSupport",
            dependencies: ["QilaCore", "QilaStore", "QilaAccess"],
            path: "Tests/QilaTestSupport",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qila",
            dependencies: [
                "CQilaProcess",
                "QilaCore",
                "QilaStore",
                "QilaAccess",
                "QilaWeb",
                "QilaDetect",
                "QilaFlows",
                "QilaRetention",
                "QilaCases",
                "QilaIngest",
                "QilaIntel",
                "QilaAssess",
                "QilaPublic",
                "QilaTraining",
                "QilaOversight",
                "QilaVulnerabilities",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaCoreTests",
            dependencies: ["QilaCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaDetectTests",
            dependencies: ["QilaCore", "QilaDetect", "QilaTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaFlowsTests",
            dependencies: ["QilaFlows", "CQilaFrames", "QilaTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaAssessTests",
            dependencies: ["QilaAssess", "QilaCases", "QilaCore", "QilaStore", "QilaAccess", "QilaTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaPublicTests",
            dependencies: ["QilaPublic", "QilaCases", "QilaCore", "QilaStore", "QilaAccess", "QilaTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaTrainingTests",
            dependencies: ["QilaTraining", "QilaCore", "QilaStore", "QilaAccess", "QilaTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaVulnerabilitiesTests",
            dependencies: ["QilaVulnerabilities", "QilaCore", "QilaStore", "QilaAccess", "QilaTestSupport"],
            exclude: ["golden"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaOversightTests",
            dependencies: [
                "QilaOversight", "QilaTraining", "QilaAssess", "QilaCases", "QilaRetention", "QilaFlows", "QilaCore", "QilaStore", "QilaAccess", "QilaTestSupport",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaCasesTests",
            dependencies: ["QilaCore", "QilaStore", "QilaAccess", "QilaCases", "QilaTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaIngestTests",
            dependencies: [
                "QilaCore", "QilaStore", "QilaAccess", "QilaDetect", "QilaIngest", "QilaIntel", "QilaTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            exclude: ["formats"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaRetentionTests",
            dependencies: [
                "QilaCore", "QilaStore", "QilaAccess", "QilaFlows", "QilaRetention", "QilaTestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaIntelTests",
            dependencies: ["QilaCore", "QilaStore", "QilaAccess", "QilaIntel", "QilaTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaStoreTests",
            dependencies: ["QilaCore", "QilaStore", "QilaAccess", "QilaTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaAccessTests",
            dependencies: [
                "QilaCore", "QilaStore", "QilaAccess", "QilaTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "QilaWebTests",
            dependencies: [
                "QilaCore", "QilaStore", "QilaAccess", "QilaWeb", "QilaIngest", "QilaDetect", "QilaAssess", "QilaCases", "QilaPublic", "QilaIntel", "QilaTraining", "QilaOversight", "QilaVulnerabilities", "QilaTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strict
        ),
    ]
)
