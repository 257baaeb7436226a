import COpenBLAS
import Foundation

/// Which of OpenBLAS's kernel sets runs the matrix products.
///
/// OpenBLAS picks its kernels when it loads, by the processor's model number. A build older than
/// the processor does not know the number and falls back to its most basic set: Debian 12's
/// OpenBLAS 0.3.21 on an Emerald Rapids Xeon (family 6, model 207) runs the Prescott (SSE3)
/// kernels, whose SGEMM does 20–30 GFLOPS on one core where the AVX-512 (SkylakeX) kernels do
/// 100–135 and the AVX2 (Haswell) ones 50–65 (docs/benchmarks.md, "OpenBLAS's kernels").
/// The variable `OPENBLAS_CORETYPE` chooses the set, but only before the library loads, so the
/// executable starts itself again once with it set (`OpenBLASKernels.swift` in `facet`: a library
/// does not restart the process it is in). A value the user set is never overridden, and a
/// processor OpenBLAS recognises keeps OpenBLAS's own choice.
public enum BLASCore {
    /// The kernel set OpenBLAS runs in this process ("SkylakeX", "Haswell", "Prescott", …).
    public static var current: String { String(cString: openblas_get_corename()) }

    /// The sets OpenBLAS falls back to for a processor it does not know.
    static let fallbacks: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge",
                                         "katmai", "coppermine", "northwood", "banias", "atom", "unknown"]

    /// The kernel set to run instead of `current`, given the processor's feature flags (as
    /// /proc/cpuinfo names them): nil when OpenBLAS's choice stands, that is when it recognised the
    /// processor, or when the processor has nothing better than the fallback.
    /// The flags are read only when `current` is a fallback, so a recognised processor costs no
    /// read of /proc/cpuinfo at start.
    public static func preferred(over current: String, flags readFlags: @autoclosure () -> Set<String>) -> String? {
        guard fallbacks.contains(current.lowercased()) else { return nil }
        let flags = readFlags()
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// The feature flags of the first processor in /proc/cpuinfo (empty where there is none).
    public static func processorFlags(_ cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Names, for the restarted process, the set OpenBLAS had fallen back to.
    public static let fallbackVariable = "FACET_OPENBLAS_FALLBACK"

    /// Where the kernel set in use came from, in words: "SkylakeX kernels, chosen by facet
    /// (OpenBLAS fell back to Prescott on this processor)", "… set by OPENBLAS_CORETYPE", or
    /// "… OpenBLAS's own choice".
    public static var origin: String {
        guard getenv("OPENBLAS_CORETYPE") != nil else { return "\(current) kernels, OpenBLAS's own choice" }
        guard let fallback = getenv(fallbackVariable) else { return "\(current) kernels, set by OPENBLAS_CORETYPE" }
        return "\(current) kernels, chosen by facet (OpenBLAS fell back to \(String(cString: fallback)) on this processor)"
    }

    /// Single-precision GFLOPS of an (M, K) × (K, N) product on random data: the median of
    /// `repeats` products after one warm-up, on the calling thread or split over the cores as the
    /// network engine splits its products.
    public static func sgemmRate(_ M: Int, _ N: Int, _ K: Int, split: Bool, repeats: Int = 9) -> Double {
        var g = SystemRandomNumberGenerator()
        let a = (0..<(M * K)).map { _ in Float.random(in: -1...1, using: &g) }
        let b = (0..<(K * N)).map { _ in Float.random(in: -1...1, using: &g) }
        var c = [Float](repeating: 0, count: M * N)
        let seconds = c.withUnsafeMutableBufferPointer { c in
            Timing.medianSeconds(repeats: repeats) { sgemm(M, N, K, a, lda: K, b, ldb: N, c.baseAddress!, ldc: N, split: split) }
        }
        return 2 * Double(M * N * K) / seconds / 1e9
    }
}
