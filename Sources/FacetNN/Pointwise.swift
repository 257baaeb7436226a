/// out = max(inp, 0).
public func reluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ count: Int) {
    for i in 0..<count { out[i] = max(inp[i], 0) }
}

/// dinp = dout where the forward output was positive, else 0 (PyTorch: the gradient at 0 is 0).
public func reluBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ count: Int) {
    for i in 0..<count { dinp[i] = out[i] > 0 ? dout[i] : 0 }
}

/// out = a + b (the residual connection); its backward passes dout to both.
public func addForward(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) {
    for i in 0..<count { out[i] = a[i] + b[i] }
}
