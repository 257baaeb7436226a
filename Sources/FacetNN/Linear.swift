/// out (B, O) = inp (B, I) · weight (O, I)^T + bias (O).
public func linearForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          _ bias: UnsafePointer<Float>?, B: Int, I: Int, O: Int) {
    sgemm(transB: true, B, O, I, inp, lda: I, weight, ldb: I, out, ldc: O)
    if let bias { for b in 0..<B { for o in 0..<O { out[b * O + o] += bias[o] } } }
}

/// Gradients, each when asked for: accumulated into dweight (O, I) and dbias (O); dinp (B, I) overwritten.
public func linearBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?, _ dbias: UnsafeMutablePointer<Float>?,
                           _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, B: Int, I: Int, O: Int) {
    // dweight (O, I) += dout^T (O, B) · inp (B, I)
    if let dweight { sgemm(transA: true, O, I, B, dout, lda: O, inp, ldb: I, beta: 1, dweight, ldc: I) }
    if let dbias { for b in 0..<B { for o in 0..<O { dbias[o] += dout[b * O + o] } } }
    // dinp (B, I) = dout (B, O) · weight (O, I)
    if let dinp { sgemm(B, I, O, dout, lda: O, weight, ldb: I, dinp, ldc: I) }
}

public func linearForwardNaive(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                               _ bias: UnsafePointer<Float>?, B: Int, I: Int, O: Int) {
    for b in 0..<B { for o in 0..<O {
        var acc: Float = bias?[o] ?? 0
        for i in 0..<I { acc += inp[b * I + i] * weight[o * I + i] }
        out[b * O + o] = acc
    } }
}
