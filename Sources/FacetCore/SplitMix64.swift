import Foundation

/// The seed of everything random when none is given (a manifest's `seed`, the commands' `--seed`).
public let defaultSeed: UInt64 = 2024

/// SplitMix64: a small, fast generator whose whole state is one 64-bit word, so a stream
/// can be keyed by (seed, photo index, purpose) and never depends on thread scheduling. The
/// generator of the synthetic dumps, of initial weights and dropout masks, of training order.
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

    /// SplitMix64's finaliser: a bijection of 64-bit words that mixes every bit into every other.
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [a, b).
    public mutating func uniform(_ a: Float, _ b: Float) -> Float { a + (b - a) * unit() }

    /// Uniform integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    public mutating func chance(_ p: Float) -> Bool { unit() < p }

    /// Uniform in [0, 1), 24 bits.
    public mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// `n` numbers uniform in [-bound, bound): initial weights as PyTorch's `kaiming_uniform_` draws them.
    public mutating func weights(_ n: Int, _ bound: Float) -> [Float] { (0..<n).map { _ in (2 * unit() - 1) * bound } }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(uniform(0, 1), 1e-7), u2 = uniform(0, 1)
        return (-2 * log(u1)).squareRoot() * cos(2 * Float.pi * u2)
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}


/// Randomness keyed by a string: the stream follows from the seed and what the key names (a
/// group of photos, a photo and its copy) alone, never from which other photos exist or the
/// order they are worked in. Each number is SplitMix64's step applied to the one before.
public struct KeyedRandom: Sendable {
    private var state: UInt64

    public init(seed: UInt64, key: String) { state = KeyedRandom.hash(seed, key) }

    /// FNV-1a of the key, started from and mixed with the seed.
    public static func hash(_ seed: UInt64, _ key: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return step(h ^ seed)
    }

    static func step(_ x: UInt64) -> UInt64 { SplitMix64.mix(x &+ 0x9E37_79B9_7F4A_7C15) }

    /// A number in [0, 1) for (seed, key).
    public static func unit(seed: UInt64, key: String) -> Double { Double(hash(seed, key) >> 11) / Double(1 << 53) }

    public mutating func next() -> UInt64 { state = KeyedRandom.step(state); return state }

    /// Uniform in [0, 1), 53 bits.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// `items` in an order drawn from this stream (Fisher–Yates).
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var a = items
        if a.count < 2 { return a }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(next() % UInt64(i + 1))) }
        return a
    }
}
