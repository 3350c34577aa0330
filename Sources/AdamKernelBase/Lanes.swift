// The handful of float operations the Adam update needs, over N lanes of one element
// type. The update is written once (AdamUpdate.swift) against this protocol; every
// kernel path of every dtype is that one generic function specialised for a lane type.
// Each operation is a single IEEE-754 operation with round-to-nearest (no fused
// multiply-add, no reciprocal estimates), so every path gives bit-identical results.
public protocol AdamLanes {
    associatedtype Scalar: AdamElement
    static var width: Int { get }
    init(broadcast: Scalar)
    static func load(_ p: UnsafePointer<Scalar>) -> Self
    func store(_ p: UnsafeMutablePointer<Scalar>)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    /// Sign flip (x ^ sign bit), as unary minus on a float.
    func negated() -> Self
    func squareRoot() -> Self
    /// `a > b ? a : b` lane-wise: with a NaN on either side the result is `b`
    /// (the semantics of x86 MAXPS/MAXPD, which the scalar path copies).
    static func greaterOrSecond(_ a: Self, _ b: Self) -> Self
}

/// One lane: the scalar reference path, and the tail of every vector path.
public struct ScalarLane<Scalar: AdamElement>: AdamLanes {
    public var x: Scalar
    @inline(__always) public init(_ x: Scalar) { self.x = x }
    @inline(__always) public static var width: Int { 1 }
    @inline(__always) public init(broadcast: Scalar) { x = broadcast }
    @inline(__always) public static func load(_ p: UnsafePointer<Scalar>) -> ScalarLane { ScalarLane(p.pointee) }
    @inline(__always) public func store(_ p: UnsafeMutablePointer<Scalar>) { p.pointee = x }
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

public let scalarKernels = AdamKernels(f32: kernel(ScalarLane<Float>.self), f64: kernel(ScalarLane<Double>.self))
