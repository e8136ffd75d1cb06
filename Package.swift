// swift-tools-version:6.0
import PackageDescription

/// Strict settings shared by every Swift target.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "ProxyVet",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "proxyvet", targets: ["proxyvet"]),
        .library(name: "ProxyVetKit", targets: ["ProxyVetKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // libcurl from the system (Debian: libcurl4-openssl-dev).
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // libpacparser from the system (Debian: libpacparser-dev), for evaluating PAC files.
        .systemLibrary(
            name: "CPacParser",
            providers: [.apt(["libpacparser-dev"])]
        ),
        // OpenSSL from the system (Debian: libssl-dev), the library libcurl links already: the SHA-256 of a list, and
        // the chain a server presents, read inside libcurl's handshake.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Typed, non-variadic wrappers for curl_easy_setopt / getinfo / curl_multi_setopt. No logic.
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        .target(
            name: "ProxyVetKit",
            dependencies: [
                "CCurlShim",
                "CPacParser",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                "COpenSSL",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            resources: [.embedInCode("Verdicts/ProductSignatures.yaml")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "proxyvet",
            dependencies: [
                "ProxyVetKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ProxyVetKitTests",
            dependencies: ["ProxyVetKit"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
