import Foundation

/// Deterministic test data: SplitMix64, so every run sees the same numbers.
struct TestRNG {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    mutating func sign() -> Double { next() & 1 == 0 ? 1 : -1 }

    /// Magnitude log-uniform in [10^lo, 10^hi], random sign.
    mutating func logUniform(_ lo: Double, _ hi: Double) -> Double {
        sign() * pow(10, uniform(lo, hi))
    }

    /// The gradient distribution of the accuracy tests: |g| log-uniform in 1e-4...10.
    mutating func gradient() -> Float { Float(logUniform(-4, 1)) }

    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func floats(_ n: Int, _ make: (inout TestRNG) -> Float) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(make(&self)) }
        return out
    }
}
