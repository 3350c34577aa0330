# Sourced by the sanitizer and fuzzing scripts: the Swift toolchain is $SWIFT, else `swift`
# on PATH; its own clang (not the system one) builds and links the C side, because the
# sanitizer and libFuzzer runtimes must be the ones its swiftc instruments for.
SWIFT=${SWIFT:-swift}
command -v "$SWIFT" > /dev/null || { echo "error: no Swift toolchain ('$SWIFT' not found: set SWIFT or PATH)" >&2; exit 1; }
CLANG=${CLANG:-$(dirname "$(readlink -f "$(command -v "$SWIFT")")")/clang}
