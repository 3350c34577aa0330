/// Eight lanes of Swift's portable SIMD type: the vector path on CPUs without a
/// hand-written one (arm64 lowers these to NEON). On x86-64 the compiler scalarizes its
/// sqrt and division, so there it is only a correctness reference for the other paths.
public struct PortableLanes: AdamLanes {
    public var v: SIMD8<Float>
    @inline(__always) public init(_ v: SIMD8<Float>) { self.v = v }
    @inline(__always) public static var width: Int { 8 }
    @inline(__always) public init(broadcast: Float) { v = SIMD8(repeating: broadcast) }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> PortableLanes {
        PortableLanes(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self))
    }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
    @inline(__always) public static func + (a: PortableLanes, b: PortableLanes) -> PortableLanes { PortableLanes(a.v + b.v) }
    @inline(__always) public static func - (a: PortableLanes, b: PortableLanes) -> PortableLanes { PortableLanes(a.v - b.v) }
    @inline(__always) public static func * (a: PortableLanes, b: PortableLanes) -> PortableLanes { PortableLanes(a.v * b.v) }
    @inline(__always) public static func / (a: PortableLanes, b: PortableLanes) -> PortableLanes { PortableLanes(a.v / b.v) }
    /// A sign flip like the other paths. SIMD's prefix minus is `0 - v`, which turns +0
    /// into +0 (not -0) and keeps a NaN's sign: not bit-identical to scalar `-x`.
    @inline(__always) public func negated() -> PortableLanes {
        PortableLanes(unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) ^ SIMD8<UInt32>(repeating: 0x8000_0000),
                                    to: SIMD8<Float>.self))
    }
    @inline(__always) public func squareRoot() -> PortableLanes { PortableLanes(v.squareRoot()) }
    @inline(__always) public static func greaterOrSecond(_ a: PortableLanes, _ b: PortableLanes) -> PortableLanes {
        PortableLanes(b.v.replacing(with: a.v, where: a.v .> b.v))
    }
}

public func adamUpdatePortable(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                               m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                               vmax: UnsafeMutablePointer<Float>?, count: Int, s: KernelScalars) {
    adamUpdate(PortableLanes.self, p: p, g: g, m: m, v: v, vmax: vmax, count: count, s: s)
}

public func allFinitePortable(_ g: UnsafePointer<Float>, count: Int) -> Bool {
    allFinite(PortableLanes.self, g, count: count)
}
