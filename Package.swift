// swift-tools-version:6.0
import PackageDescription

// The fast kernels vectorise with Swift SIMD types. On x86-64 we build for
// x86-64-v3 (AVX2 + FMA, as current enterprise distributions require; the
// compiler names that feature set "haswell") so that a
// SIMD8<Double> is two AVX registers rather than four SSE ones. Only the
// instruction set changes: no target uses fused multiply-add, because Swift
// never contracts `a * b + c` (Docs/performance.md). Other architectures
// (aarch64) build with the compiler's defaults.
#if arch(x86_64)
let cpuSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let cpuSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "thunnini-ref",
    products: [
        .library(name: "Thunnini", targets: ["Thunnini"]),
        .library(name: "ThunniniReport", targets: ["ThunniniReport"]),
        .executable(name: "thunnini-ref", targets: ["thunnini-ref"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        // GSL special functions (lngamma, lnbeta, psi) for the exact Bayesian quantities.
        .systemLibrary(
            name: "CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"])]
        ),
        // LAPACKE QR for the orthogonal initialiser of recurrent kernels.
        .systemLibrary(
            name: "CLAPACKE",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]
        ),
        .target(
            name: "Thunnini",
            dependencies: [
                "CGSL",
                "CLAPACKE",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: cpuSettings
        ),
        // The static markdown + SVG report (`thunnini-ref report`); depends on the engine, never the reverse.
        .target(
            name: "ThunniniReport",
            dependencies: ["Thunnini"],
            resources: [.copy("DefaultExperiments")],
            swiftSettings: cpuSettings
        ),
        .executableTarget(
            name: "thunnini-ref",
            dependencies: [
                "Thunnini",
                "ThunniniReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: cpuSettings
        ),
        .testTarget(
            name: "ThunniniTests",
            dependencies: ["Thunnini"],
            resources: [],
            swiftSettings: cpuSettings
        ),
        .testTarget(
            name: "ThunniniReportTests",
            dependencies: ["Thunnini", "ThunniniReport"],
            swiftSettings: cpuSettings
        ),
    ],
    swiftLanguageModes: [.v5]
)

// The libFuzzer targets (Tests/Fuzz/README.md): only with THUNNINI_FUZZ=1,
// never in the default build or `swift test`.
if Context.environment["THUNNINI_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "ThunniniFuzz", dependencies: ["Thunnini"], path: "Tests/Fuzz/ThunniniFuzz"))
}
