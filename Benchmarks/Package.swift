// swift-tools-version: 6.2
// Benchmark programs, kept apart from the product so that they never ship in `qila`.
import PackageDescription

let package = Package(
    name: "QilaBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "qila", path: "..")
    ],
    targets: [
        .target(name: "BenchmarkSupport"),
        .executableTarget(
            name: "flow-query",
            dependencies: [.product(name: "QilaFlows", package: "qila")]
        ),
        .executableTarget(
            name: "assessment-rollup",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "QilaAssess", package: "qila"), .product(name: "QilaAccess", package: "qila"),
                .product(name: "QilaCases", package: "qila"), .product(name: "QilaStore", package: "qila"), .product(name: "QilaCore", package: "qila"),
            ]
        ),
        .executableTarget(
            name: "exposure-match",
            dependencies: ["BenchmarkSupport", .product(name: "QilaVulnerabilities", package: "qila")]
        ),
        .executableTarget(
            name: "flow-ingest",
            dependencies: [.product(name: "QilaFlows", package: "qila")]
        ),
    ]
)
