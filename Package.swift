// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "proxy-ledger",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "proxy-ledger", targets: ["CLI"]),
        .executable(name: "proxy-ledger-bench", targets: ["ProxyLedgerBench"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "Projections", targets: ["Projections"]),
        .library(name: "ProxyGateway", targets: ["ProxyGateway"]),
        .library(name: "Workers", targets: ["Workers"]),
        .library(name: "Jobs", targets: ["Jobs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries stay at the edge: each is imported by exactly one Swift module.
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),

        .target(
            name: "Ledger",
            dependencies: [
                "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Projections",
            dependencies: [
                "Ledger",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "Jobs",
            dependencies: [
                "Ledger",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "Reporting",
            dependencies: ["Ledger", "Projections"]
        ),
        .target(
            name: "Reconciliation",
            dependencies: ["Ledger", "Projections"]
        ),
        .target(
            name: "ProxyGateway",
            dependencies: [
                "Ledger",
                "CCurlShims",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Workers",
            dependencies: [
                "Ledger",
                "ProxyGateway",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "ProxyLab",
            dependencies: [
                "Ledger",
                "ProxyGateway",
                "Reconciliation",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "MainJob",
            dependencies: [
                "Runtime",
                "Jobs",
                "Ledger",
                "Reconciliation",
                "Projections",
                "ProxyGateway",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "ProxyLab",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The composition root of `serve` and `demo`: one ServiceGroup of the metering proxy, the
        // worker pools, the projector and the HTTP server.
        .target(
            name: "Runtime",
            dependencies: [
                "Ledger",
                "Projections",
                "ProxyGateway",
                "Workers",
                "Jobs",
                "Reporting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "CLI",
            dependencies: [
                "Runtime",
                "Ledger",
                "Projections",
                "ProxyGateway",
                "ProxyLab",
                "MainJob",
                "Reporting",
                "Reconciliation",
                "Jobs",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "ProxyLedgerBench",
            dependencies: [
                "Ledger",
                "Projections",
                "ProxyGateway",
                "ProxyLab",
                "Reporting",
                "Jobs",
                "Runtime",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/ProxyLedgerBench"
        ),

        .target(
            name: "TestSupport",
            dependencies: ["Ledger", "ProxyLab", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "TestSupport"]),
        .testTarget(name: "ProjectionsTests", dependencies: ["Projections", "Ledger", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Projections", "Ledger", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "ReconciliationTests", dependencies: ["Reconciliation", "Projections", "Ledger", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "ProxyGatewayTests",
            dependencies: [
                "ProxyGateway", "Ledger", "Reconciliation", "ProxyLab", "TestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "Ledger", "TestSupport"]),
        .testTarget(
            name: "WorkersTests",
            dependencies: ["Workers", "ProxyGateway", "Ledger", "Reconciliation", "ProxyLab", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Runtime", "Jobs", "Ledger", "Projections", "ProxyGateway", "Reconciliation", "ProxyLab", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Ledger", "Projections", "Reconciliation", "ProxyLab", "MainJob", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)

// Fuzz targets (libFuzzer), built only with PROXY_LEDGER_FUZZ=1 so that `swift build` and
// `swift build --build-tests` never see them: `make fuzz` (scripts/fuzz.sh, docs/fuzzing.md) sets it
// and builds them into their own scratch path, `.build-fuzz`. libFuzzer brings its own `main`, so
// each target is compiled as a library (`-parse-as-library`) exporting `LLVMFuzzerTestOneInput`.
// The library modules they exercise get the fuzzer's coverage instrumentation and AddressSanitizer
// too; the package dependencies are built as usual.
if Context.environment["PROXY_LEDGER_FUZZ"] == "1" {
    let sanitize = ["-sanitize=fuzzer,address"]
    for target in package.targets where ["Ledger", "Projections", "Reconciliation"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitize)]
    }
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzSegment", ["Ledger", "CZstd", .product(name: "Crypto", package: "swift-crypto")]),
        ("FuzzEventJSON", ["Ledger"]),
        ("FuzzSquidLog", ["Reconciliation"]),
        ("FuzzWebshareCSV", ["Reconciliation"]),
        ("FuzzWebshareStats", ["Reconciliation"]),
    ]
    package.targets.append(
        .target(
            name: "FuzzSupport",
            path: "Fuzz/FuzzSupport",
            swiftSettings: [.unsafeFlags(sanitize), .enableExperimentalFeature("Extern")]
        ))
    for fuzz in fuzzTargets {
        package.products.append(.executable(name: fuzz.name, targets: [fuzz.name]))
        package.targets.append(
            .executableTarget(
                name: fuzz.name,
                dependencies: fuzz.dependencies + ["FuzzSupport"],
                path: "Fuzz/\(fuzz.name)",
                swiftSettings: [.unsafeFlags(sanitize + ["-parse-as-library"])],
                linkerSettings: [.unsafeFlags(sanitize)]
            ))
    }
}

for target in package.targets where target.type != .system {
    // Swift 6 language mode (tools 6.1) gives strict concurrency checking everywhere.
    // Warnings are errors in our own targets (not in the packages we depend on).
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
        .unsafeFlags(["-warnings-as-errors"]),
    ]
}
