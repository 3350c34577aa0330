// libm's pow for the scalar factors (the README formula says libm's, on every platform),
// for every file of the kernel module.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif
