// The C library for every file of this module and, re-exported, for the C-ABI module
// above it: the one place that knows which libc the platform has.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#endif

// read(2) and write(2) under names that ByteSource.read and ByteSink.write do not shadow:
// inside those methods a bare `read`/`write` means the method itself.

@inline(__always)
func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }

@inline(__always)
func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { read(fd, p, n) }
