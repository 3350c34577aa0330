/// Eight lanes of Swift's portable SIMD type: the vector path on CPUs without a
/// hand-written one (arm64 lowers these to NEON). On x86-64 the compiler scalarizes its
/// sqrt and division, so there it is only a correctness reference for the other paths.
public struct PortableLanes<Scalar: AdamElement>: AdamLanes {
    public var v: SIMD8<Scalar>
    @inline(__always) public init(_ v: SIMD8<Scalar>) { self.v = v }
    @inline(__always) public static var width: Int { 8 }
    @inline(__always) public init(broadcast: Scalar) { v = SIMD8(repeating: broadcast) }
    @inline(__always) public static func load(_ p: UnsafePointer<Scalar>) -> PortableLanes {
        PortableLanes(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Scalar>.self))
    }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Scalar>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Scalar>.self)
    }
    @inline(__always) public static func + (a: PortableLanes, b: PortableLanes) -> PortableLanes { PortableLanes(a.v + b.v) }
    @inline(__always) public static func - (a: PortableLanes, b: PortableLanes) -> PortableLanes { PortableLanes(a.v - b.v) }
    @inline(__always) public static func * (a: PortableLanes, b: PortableLanes) -> PortableLanes { PortableLanes(a.v * b.v) }
    @inline(__always) public static func / (a: PortableLanes, b: PortableLanes) -> PortableLanes { PortableLanes(a.v / b.v) }
    /// A sign flip like the other paths. SIMD's prefix minus is `0 - v`, which turns +0
    /// into +0 (not -0) and keeps a NaN's sign: not bit-identical to scalar `-x`.
    @inline(__always) public func negated() -> PortableLanes {
        let sign = SIMD8<Scalar.Bits>(repeating: 1 << (Scalar.Bits.bitWidth - 1))
        return PortableLanes(unsafeBitCast(unsafeBitCast(v, to: SIMD8<Scalar.Bits>.self) ^ sign, to: SIMD8<Scalar>.self))
    }
    @inline(__always) public func squareRoot() -> PortableLanes { PortableLanes(v.squareRoot()) }
    @inline(__always) public static func greaterOrSecond(_ a: PortableLanes, _ b: PortableLanes) -> PortableLanes {
        PortableLanes(b.v.replacing(with: a.v, where: a.v .> b.v))
    }
}

public let portableKernels = AdamKernels(f32: kernel(PortableLanes<Float>.self),
                                         f64: kernel(PortableLanes<Double>.self))
