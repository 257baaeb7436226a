import COpenBLAS
import Foundation

/// Single-precision matrix multiply on OpenBLAS, row-major:
/// C (M, N) = alpha · op(A) (M, K) · op(B) (K, N) + beta · C.
///
/// OpenBLAS runs single-threaded and facet splits a large product into one block of C per core
/// (columns, or rows when C is taller than wide) on its own thread pool, the one its other
/// parallel loops use: OpenBLAS's idle workers would otherwise spin in `sched_yield` beside
/// those loops and take their cores (a quarter of a training step's time on two cores).
/// `split: false` keeps the product on the calling thread (inside a loop already on all cores).
@inline(__always)
func sgemm(transA: Bool = false, transB: Bool = false, _ M: Int, _ N: Int, _ K: Int, alpha: Float = 1,
           _ A: UnsafePointer<Float>, lda: Int, _ B: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, _ C: UnsafeMutablePointer<Float>, ldc: Int, split: Bool = true) {
    BLASThreads.configure
    func gemm(_ m: Int, _ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(K), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    let parts = min(BLASThreads.cores, M * N * K / BLASThreads.minimumWork)
    guard split, parts > 1, max(M, N) >= 2 * 16 else { gemm(M, N, A, B, C); return }
    let (a, b, c) = (Shared(A), Shared(B), Shared(C))
    if N >= M {
        let chunk = (N + parts - 1) / parts + 15 & ~15
        parallelFor((N + chunk - 1) / chunk) { p in
            let c0 = p * chunk, n = min(chunk, N - c0)
            gemm(M, n, a.p, b.p + (transB ? c0 * ldb : c0), c.p + c0)
        }
    } else {
        let chunk = (M + parts - 1) / parts + 15 & ~15
        parallelFor((M + chunk - 1) / chunk) { p in
            let r0 = p * chunk, m = min(chunk, M - r0)
            gemm(m, N, a.p + (transA ? r0 : r0 * lda), b.p, c.p + r0 * ldc)
        }
    }
}

/// How matrix products use the cores.
public enum BLASThreads {
    /// Blocks a large product is split into: the cores.
    public static let cores = ProcessInfo.processInfo.activeProcessorCount
    /// Below this many multiply-adds a product stays on one core.
    static let minimumWork = 1 << 20
    /// OpenBLAS set to one thread, once.
    static let configure: Void = { openblas_set_num_threads(1) }()

    /// OpenBLAS set to one thread, and the worker threads its pthreads build starts when it loads
    /// stopped: idle, each spins in `sched_yield` for about a tenth of a second before it sleeps,
    /// a core taken from a short run's own loops (113 ms of a 0.5 s pipeline run on two cores).
    /// facet never runs OpenBLAS on more than one thread. `blas_thread_shutdown_` is looked up
    /// at run time (OpenBLAS's own fork handler calls it); a build without it is left alone.
    public static func stopIdleWorkers() {
        configure
        typealias Shutdown = @convention(c) () -> Int32
        // nil is RTLD_DEFAULT: every library loaded.
        guard let symbol = dlsym(nil, "blas_thread_shutdown_") else { return }
        _ = unsafeBitCast(symbol, to: Shutdown.self)()
    }

    /// Threads one product uses.
    public static var count: Int { cores }
}
