import Foundation

/// Softmax cross-entropy averaged over the batch (PyTorch's `cross_entropy`, reduction mean).
/// Writes the probabilities (B, K) for the backward pass and returns the loss.
public func crossEntropyForward(_ probs: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, _ targets: UnsafePointer<Int32>,
                                B: Int, K: Int) -> Float {
    var loss = 0.0
    for b in 0..<B {
        let row = logits + b * K, p = probs + b * K
        var m = -Float.infinity
        for k in 0..<K { m = max(m, row[k]) }
        var sum = 0.0
        for k in 0..<K { let e = exp(Double(row[k] - m)); p[k] = Float(e); sum += e }
        for k in 0..<K { p[k] = Float(Double(p[k]) / sum) }
        let t = Int(targets[b])
        loss += -(Double(row[t] - m) - log(sum))
    }
    return Float(loss / Double(B))
}

/// dlogits (overwritten) = (softmax − one-hot) / B.
public func crossEntropyBackward(_ dlogits: UnsafeMutablePointer<Float>, _ probs: UnsafePointer<Float>, _ targets: UnsafePointer<Int32>,
                                 B: Int, K: Int) {
    let scale = 1 / Float(B)
    for b in 0..<B {
        for k in 0..<K { dlogits[b * K + k] = probs[b * K + k] * scale }
        dlogits[b * K + Int(targets[b])] -= scale
    }
}
