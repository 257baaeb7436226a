import COpenBLAS

/// Single-precision matrix multiply on OpenBLAS, row-major:
/// C (M, N) = alpha · op(A) (M, K) · op(B) (K, N) + beta · C.
@inline(__always)
func sgemm(transA: Bool = false, transB: Bool = false, _ M: Int, _ N: Int, _ K: Int, alpha: Float = 1,
           _ A: UnsafePointer<Float>, lda: Int, _ B: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, _ C: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(M), Int32(N), Int32(K), alpha, A, Int32(lda), B, Int32(ldb), beta, C, Int32(ldc))
}

/// OpenBLAS's thread count (all cores unless OPENBLAS_NUM_THREADS says otherwise).
public enum BLASThreads {
    public static var count: Int { Int(openblas_get_num_threads()) }
}
