// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "thunnini-ref",
    products: [
        .library(name: "Thunnini", targets: ["Thunnini"]),
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
        .executableTarget(
            name: "thunnini-ref",
            dependencies: [
                "Thunnini",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ThunniniTests",
            dependencies: ["Thunnini"],
            resources: []
        ),
    ],
    swiftLanguageModes: [.v5]
)

// The libFuzzer targets (Tests/Fuzz/README.md): only with THUNNINI_FUZZ=1,
// never in the default build or `swift test`.
if Context.environment["THUNNINI_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "ThunniniFuzz", dependencies: ["Thunnini"], path: "Tests/Fuzz/ThunniniFuzz"))
}
