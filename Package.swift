// swift-tools-version:6.0
import PackageDescription

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
