// The handful of float operations the Adam update needs, over N lanes. The update is
// written once (AdamUpdate.swift) against this protocol; every kernel path is that one
// generic function specialised for a lane type. Each operation is a single IEEE-754
// operation with round-to-nearest (no fused multiply-add, no reciprocal estimates), so
// every path gives bit-identical results.
public protocol AdamLanes {
    static var width: Int { get }
    init(broadcast: Float)
    static func load(_ p: UnsafePointer<Float>) -> Self
    func store(_ p: UnsafeMutablePointer<Float>)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    /// Sign flip (x ^ 0x80000000), as unary minus on a float.
    func negated() -> Self
    func squareRoot() -> Self
    /// `a > b ? a : b` lane-wise: with a NaN on either side the result is `b`
    /// (the semantics of x86 MAXPS, which the scalar path copies).
    static func greaterOrSecond(_ a: Self, _ b: Self) -> Self
}

/// One lane: the scalar reference path, and the tail of every vector path.
public struct ScalarLane: AdamLanes {
    public var x: Float
    @inline(__always) public init(_ x: Float) { self.x = x }
    @inline(__always) public static var width: Int { 1 }
    @inline(__always) public init(broadcast: Float) { x = broadcast }
    @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> ScalarLane { ScalarLane(p.pointee) }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Float>) { p.pointee = x }
    @inline(__always) public static func + (a: ScalarLane, b: ScalarLane) -> ScalarLane { ScalarLane(a.x + b.x) }
    @inline(__always) public static func - (a: ScalarLane, b: ScalarLane) -> ScalarLane { ScalarLane(a.x - b.x) }
    @inline(__always) public static func * (a: ScalarLane, b: ScalarLane) -> ScalarLane { ScalarLane(a.x * b.x) }
    @inline(__always) public static func / (a: ScalarLane, b: ScalarLane) -> ScalarLane { ScalarLane(a.x / b.x) }
    @inline(__always) public func negated() -> ScalarLane { ScalarLane(-x) }
    @inline(__always) public func squareRoot() -> ScalarLane { ScalarLane(x.squareRoot()) }
    @inline(__always) public static func greaterOrSecond(_ a: ScalarLane, _ b: ScalarLane) -> ScalarLane {
        ScalarLane(a.x > b.x ? a.x : b.x)
    }
}

public func adamUpdateScalar(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                             m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                             vmax: UnsafeMutablePointer<Float>?, count: Int, s: KernelScalars) {
    adamUpdate(ScalarLane.self, p: p, g: g, m: m, v: v, vmax: vmax, count: count, s: s)
}

public func allFiniteScalar(_ g: UnsafePointer<Float>, count: Int) -> Bool {
    allFinite(ScalarLane.self, g, count: count)
}
