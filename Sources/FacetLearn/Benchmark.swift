import FacetNN
import Foundation

/// Timed training and inference steps on random data, for `facet bench train|infer`.
public enum NetworkBenchmark {
    public struct Result: Sendable {
        /// Images per second of each timed step.
        public var rates: [Double]
        /// Peak resident memory of the process, bytes.
        public var peakBytes: Int
        public var median: Double { rates.sorted()[rates.count / 2] }
    }

    /// One warm-up step, then `steps` timed ones: forward, cross-entropy, backward and an Adam step
    /// when training; a forward pass in evaluation mode otherwise.
    public static func run(_ arch: Architecture, size: Int, batch: Int, steps: Int, train: Bool, classes: Int = 3) -> Result {
        let model = arch.make(classes: classes)
        model.train(train)
        model.requiresGrad(train)
        model.firstConvolution?.needsInputGradient = false
        var rng = Random(seed: 7)
        let x = Tensor(shape: [batch, 3, size, size], data: rng.uniform(batch * 3 * size * size, 1))
        let targets = (0..<batch).map { Int32($0 % classes) }
        let adam = train ? Adam(model, lr: 1e-4) : nil
        var rates: [Double] = []
        for step in 0...steps {
            let start = DispatchTime.now().uptimeNanoseconds
            let logits = model.forward(x)
            if train {
                model.zeroGrad()
                _ = model.backward(Trainer.loss(logits, targets).2)
                adam!.step()
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if step > 0 { rates.append(Double(batch) / seconds) }
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Result(rates: rates, peakBytes: usage.ru_maxrss * 1024)
    }
}
