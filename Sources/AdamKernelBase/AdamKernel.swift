/// An element type the kernel runs on: Float (float32) or Double (float64).
public protocol AdamElement: BinaryFloatingPoint, SIMDScalar, Codable, Sendable {
    /// The unsigned integer of the same width: sign flips on portable SIMD go through it.
    associatedtype Bits: FixedWidthInteger & UnsignedInteger & SIMDScalar
    /// libm's pow in this type (powf for Float): Keras raises beta to the step in the
    /// variable's dtype, so the keras flavour must too.
    static func power(_ x: Self, _ y: Self) -> Self
    /// This dtype's entry in one kernel path's table.
    static func kernel(in table: AdamKernels) -> AdamKernel<Self>
}

extension Float: AdamElement {
    public typealias Bits = UInt32
    @inline(__always) public static func power(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    @inline(__always) public static func kernel(in table: AdamKernels) -> AdamKernel<Float> { table.f32 }
}

extension Double: AdamElement {
    public typealias Bits = UInt64
    @inline(__always) public static func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
    @inline(__always) public static func kernel(in table: AdamKernels) -> AdamKernel<Double> { table.f64 }
}

/// One kernel path for one dtype: the Adam update and the finiteness check, specialised
/// for one lane type. Built (see the `*Kernels` constants) inside the module compiled
/// for that path's CPU, so the specialisation carries that module's instruction set.
public struct AdamKernel<T: AdamElement>: Sendable {
    public typealias Update = @Sendable (UnsafeMutablePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>,
                                         UnsafeMutablePointer<T>, UnsafeMutablePointer<T>?, Int, KernelScalars<T>) -> Void
    public typealias AllFinite = @Sendable (UnsafePointer<T>, Int) -> Bool

    /// Elements per vector of this path (1 for the scalar path).
    public let width: Int
    /// update(p, g, m, v, vmax, count, scalars): one tensor range, in place.
    public let update: Update
    /// allFinite(g, count): true when no element is NaN or ±Inf.
    public let allFinite: AllFinite

    @inlinable
    public init(width: Int, update: @escaping Update, allFinite: @escaping AllFinite) {
        self.width = width
        self.update = update
        self.allFinite = allFinite
    }
}

/// The kernel of lane type L, for the paths compiled in this module. Each lane module
/// writes these two closures itself, in a function that is not @inlinable: closures
/// specialised from inlinable code call the C intrinsics out of line (measured: ~155
/// calls per sweep, several times slower), whatever module specialises them.
func kernel<L: AdamLanes>(_: L.Type) -> AdamKernel<L.Scalar> {
    AdamKernel(width: L.width, update: { adamUpdate(L.self, p: $0, g: $1, m: $2, v: $3, vmax: $4, count: $5, s: $6) },
               allFinite: { allFinite(L.self, $0, count: $1) })
}

/// One kernel path's table: its instantiation for every dtype.
public struct AdamKernels: Sendable {
    public let f32: AdamKernel<Float>
    public let f64: AdamKernel<Double>

    @inlinable
    public init(f32: AdamKernel<Float>, f64: AdamKernel<Double>) {
        self.f32 = f32
        self.f64 = f64
    }

    /// The entry for element type T.
    @inlinable @inline(__always)
    public subscript<T: AdamElement>(_: T.Type) -> AdamKernel<T> { T.kernel(in: self) }
}
