import Testing
@testable import FacetNN

/// OpenBLAS's kernels: a fallback set is replaced by the best one the processor's flags allow;
/// a recognised processor keeps OpenBLAS's choice.
@Suite struct BLASCoreTests {
    static let avx512: Set = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    @Test func aFallbackIsReplacedByWhatTheFlagsAllow() {
        #expect(BLASCore.preferred(over: "Prescott", flags: Self.avx512) == "SkylakeX")
        #expect(BLASCore.preferred(over: "Sandybridge", flags: ["avx", "avx2", "fma"]) == "Haswell")
        #expect(BLASCore.preferred(over: "Prescott", flags: Self.avx512.subtracting(["avx512vl"])) == "Haswell")
        #expect(BLASCore.preferred(over: "Prescott", flags: ["sse2", "sse3", "avx"]) == nil)
        #expect(BLASCore.preferred(over: "Prescott", flags: []) == nil)
    }

    @Test func aRecognisedProcessorKeepsOpenBLASsChoice() {
        for core in ["SkylakeX", "Cooperlake", "Haswell", "Zen", "SapphireRapids"] {
            #expect(BLASCore.preferred(over: core, flags: Self.avx512) == nil, "\(core)")
        }
    }

    @Test func flagsAreReadFromTheFirstProcessor() {
        let cpuinfo = "processor\t: 0\nmodel\t\t: 207\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: spectre\n\nprocessor\t: 1\nflags\t\t: other\n"
        #expect(BLASCore.processorFlags(cpuinfo) == ["fpu", "sse2", "avx2", "fma"])
        #expect(BLASCore.processorFlags("no flags here") == [])
        #expect(BLASCore.processorFlags(nil) == [])
    }

    /// With OpenBLAS's idle workers stopped, products still come out right, split over the cores
    /// or not: against a plain triple loop.
    @Test func productsAreRightAfterTheIdleWorkersStop() {
        BLASThreads.stopIdleWorkers()
        BLASThreads.stopIdleWorkers()   // twice: the second finds nothing to stop
        let (M, N, K) = (67, 129, 300)
        let a = (0..<(M * K)).map { Float(($0 * 7919) % 13) - 6 }, b = (0..<(K * N)).map { Float(($0 * 104_729) % 11) - 5 }
        var expected = [Float](repeating: 0, count: M * N)
        for i in 0..<M { for j in 0..<N { for k in 0..<K { expected[i * N + j] += a[i * K + k] * b[k * N + j] } } }
        for split in [false, true] {
            var c = [Float](repeating: .nan, count: M * N)
            c.withUnsafeMutableBufferPointer { c in
                sgemm(M, N, K, a, lda: K, b, ldb: N, c.baseAddress!, ldc: N, split: split)
            }
            #expect(c == expected, "split \(split)")   // small integers: every sum is exact
        }
    }
}
