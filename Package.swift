// swift-tools-version:6.0
import PackageDescription

// Kernel paths are separate targets because Swift has no per-function target attribute:
// each is compiled with its own -target-cpu and the core picks one at run time.
let package = Package(
    name: "SwiftAdam",
    products: [
        .library(name: "SwiftAdam", type: .dynamic, targets: ["SwiftAdam"]),
    ],
    targets: [
        .systemLibrary(name: "CSwiftAdam", path: "Sources/CSwiftAdam"),
        .target(name: "CPUFeatures"),
        .target(
            name: "AdamKernelBase",
            dependencies: ["CPUFeatures"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "AdamKernelAVX2",
            dependencies: ["AdamKernelBase"],
            swiftSettings: [
                .swiftLanguageMode(.v5),
                .unsafeFlags(["-target-cpu", "haswell"]),
            ]
        ),
        .target(
            name: "SwiftAdamCore",
            dependencies: ["AdamKernelBase", "AdamKernelAVX2", "CPUFeatures"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "SwiftAdam",
            dependencies: ["SwiftAdamCore", "CSwiftAdam"],
            swiftSettings: [.swiftLanguageMode(.v5)],
            // dlclose must not unmap the library: threads keep its pthread-key destructor
            // (last error text) and the statically linked Swift runtime's state after a
            // host unloads it, and every reload would leak another key.
            linkerSettings: [.unsafeFlags(["-Xlinker", "-znodelete"])]
        ),
        .testTarget(
            name: "SwiftAdamTests",
            dependencies: ["SwiftAdam", "SwiftAdamCore", "AdamKernelBase", "CSwiftAdam"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
