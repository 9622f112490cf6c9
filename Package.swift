// swift-tools-version:6.0
import PackageDescription

// No target sets compiler flags of its own: SwiftPM refuses `unsafeFlags`
// in a package used as a versioned dependency (even behind a trait), so the
// library products build with the toolchain's defaults wherever they are
// used. The fast kernels vectorise with Swift SIMD types; the command-line
// tool built from this repository is compiled for x86-64-v3 (AVX2 + FMA;
// the compiler names that feature set "haswell") by passing
// `-Xswiftc -target-cpu -Xswiftc haswell` to `swift build`, `swift run` and
// `swift test` (README.md), so that a SIMD8<Double> is two AVX registers
// rather than four SSE ones. Only the instruction set changes: Swift never
// contracts `a * b + c` into a fused multiply-add, so both builds compute
// bit-identical results (Docs/performance.md).

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
            ]
        ),
        // The static markdown + SVG report (`thunnini-ref report`); depends on the engine, never the reverse.
        .target(
            name: "ThunniniReport",
            dependencies: ["Thunnini"],
            resources: [.copy("DefaultExperiments")]
        ),
        .executableTarget(
            name: "thunnini-ref",
            dependencies: [
                "Thunnini",
                "ThunniniReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ThunniniTests",
            dependencies: ["Thunnini"],
            resources: []
        ),
        .testTarget(
            name: "ThunniniReportTests",
            dependencies: ["Thunnini", "ThunniniReport"]
        ),
    ],
    swiftLanguageModes: [.v5]
)

// The libFuzzer targets (Tests/Fuzz/README.md): only with THUNNINI_FUZZ=1,
// never in the default build or `swift test`.
if Context.environment["THUNNINI_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "ThunniniFuzz", dependencies: ["Thunnini"], path: "Tests/Fuzz/ThunniniFuzz"))
}

// The DocC plugin (Docs/README.md): only with THUNNINI_DOCS=1, so that
// neither `swift test` nor a package that depends on this one resolves it.
if Context.environment["THUNNINI_DOCS"] == "1" {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"))
}
