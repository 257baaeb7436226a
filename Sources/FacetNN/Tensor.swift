/// A float32 tensor, contiguous, row-major (NCHW for images). A value type: copies share
/// storage until one is written.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not hold \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor whose every element the caller writes before reading (no zero-filling pass).
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        let n = shape.reduce(1, *)
        data = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            Heap.adviseHugePages(buffer.baseAddress, bytes: n * 4)
            initialized = n
        }
    }

    public var count: Int { data.count }

    /// The largest |a − b| over the elements of two tensors of one shape.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes \(shape) and \(other.shape) differ")
        var m: Float = 0
        for i in data.indices { m = max(m, abs(data[i] - other.data[i])) }
        return m
    }

    /// max |a − b| / max(max |b|, tiny): the error relative to the reference's scale.
    public func maxRelativeDifference(_ reference: Tensor) -> Float {
        let scale = reference.data.reduce(Float(0)) { max($0, abs($1)) }
        return maxAbsDifference(reference) / max(scale, 1e-12)
    }
}
