import Foundation

/// SplitMix64: a small, fast generator whose whole state is one 64-bit word, so a stream
/// can be keyed by (seed, photo index, purpose) and never depends on thread scheduling.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A stream keyed by several numbers: the same keys give the same stream.
    public init(keys: UInt64...) {
        var s: UInt64 = 0x9E37_79B9_7F4A_7C15
        for k in keys { s = SplitMix64.mix(s ^ SplitMix64.mix(k &+ 0x632B_E59B_D9B4_E019)) }
        state = s
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [a, b).
    public mutating func uniform(_ a: Float, _ b: Float) -> Float {
        a + (b - a) * Float(next() >> 40) / Float(1 << 24)
    }

    /// Uniform integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    public mutating func chance(_ p: Float) -> Bool { uniform(0, 1) < p }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(uniform(0, 1), 1e-7), u2 = uniform(0, 1)
        return (-2 * log(u1)).squareRoot() * cos(2 * Float.pi * u2)
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

