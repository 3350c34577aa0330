// swift-tools-version:6.0
import PackageDescription

// The shipped library exports only swiftadam_* (version node SWIFTADAM_0; the Swift runtime
// linked into it stays local) and carries the ABI major in its SONAME. lld, not gold: gold
// keeps GLOB_DAT relocations against metadata symbols the script made local. The script path
// is absolute because the linker does not run in the package root. Release only: SwiftPM
// also passes a target's linker flags to the test executable, where the script would hide
// the sanitizer runtimes' interceptors from the shared libraries (swift test --sanitize).
let libraryLinkFlags = [
    "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/SwiftAdam/exports.map",
    "-Xlinker", "-soname=libSwiftAdam.so.0",
    "-use-ld=lld",
]

// Kernel paths are separate targets because Swift has no per-function target attribute:
// each is compiled with its own -target-cpu and the core picks one at run time.
let package = Package(
    name: "SwiftAdam",
    products: [
        .library(name: "SwiftAdam", type: .dynamic, targets: ["SwiftAdam"]),
    ],
    targets: [
        .systemLibrary(name: "CSwiftAdam", path: "Sources/CSwiftAdam"),
        // DWARF 4 like the Swift modules: valgrind 3.19 (Debian 12) aborts on clang's DWARF 5 forms.
        .target(name: "CPUFeatures", cSettings: [.unsafeFlags(["-gdwarf-4"])]),
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
            name: "AdamKernelAVX512",
            dependencies: ["AdamKernelBase"],
            swiftSettings: [
                .swiftLanguageMode(.v5),
                .unsafeFlags(["-target-cpu", "skylake-avx512"]),
            ]
        ),
        .target(
            name: "SwiftAdamCore",
            dependencies: ["AdamKernelBase", "AdamKernelAVX2", "AdamKernelAVX512", "CPUFeatures"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "SwiftAdam",
            dependencies: ["SwiftAdamCore", "CSwiftAdam"],
            exclude: ["exports.map"],
            swiftSettings: [.swiftLanguageMode(.v5)],
            linkerSettings: [
                // dlclose must not unmap the library: threads keep its pthread-key destructor
                // (last error text) and the statically linked Swift runtime's state after a
                // host unloads it, and every reload would leak another key.
                .unsafeFlags(["-Xlinker", "-znodelete"]),
                .unsafeFlags(libraryLinkFlags, .when(configuration: .release)),
            ]
        ),
        .testTarget(
            name: "SwiftAdamTests",
            dependencies: ["SwiftAdam", "SwiftAdamCore", "AdamKernelBase", "CSwiftAdam"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
