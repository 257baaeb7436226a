import Foundation
import Testing
@testable import FacetNN

/// Whole models against PyTorch (tools/make_model_fixtures.py): narrow copies of ResNet18 and
/// VGG16 with torchvision's names, loaded by name from PyTorch's initial state dict; one
/// training step's logits, loss, input gradient, every parameter gradient and running
/// statistics; then ten Adam steps' losses.
@Suite struct GoldenModelTests {
    static func fixture(_ name: String) throws -> Safetensors.File {
        try Safetensors.read(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/nn/\(name).safetensors").path)
    }

    static func check(_ model: Module, _ f: Safetensors.File) throws {
        func t(_ name: String) -> Tensor { f.tensors[name]! }
        let initial = f.tensors.filter { $0.key.hasPrefix("init.") }
        let report = try model.load(Dictionary(uniqueKeysWithValues: initial.map { (String($0.key.dropFirst(5)), $0.value) }))
        #expect(report.clean && report.loaded == initial.count)
        let targets = t("target").data.map { Int32($0) }
        model.train()
        model.zeroGrad()
        let logits = model.forward(t("x"))
        var probs = [Float](repeating: 0, count: logits.count)
        let (B, K) = (logits.shape[0], logits.shape[1])
        let loss = crossEntropyForward(&probs, logits.data, targets, B: B, K: K)
        var dlogits = Tensor(zeros: logits.shape)
        crossEntropyBackward(&dlogits.data, probs, targets, B: B, K: K)
        let dx = model.backward(dlogits)

        var worst: (String, Float) = ("", 0)
        func compare(_ got: Tensor, _ name: String, _ tolerance: Float = 1e-4) {
            let e = got.maxRelativeDifference(t(name))
            if e > worst.1 { worst = (name, e) }
            #expect(e <= tolerance, "\(name): max relative difference \(e)")
        }
        compare(logits, "logits")
        compare(Tensor(shape: [1], data: [loss]), "loss")
        compare(dx, "dx")
        var grads = 0
        for (name, p) in model.namedParams() {
            if p.isBuffer {
                if name.contains("running") { compare(p.value, "after." + name) }
            } else {
                compare(p.grad, "grad." + name)
                grads += 1
            }
        }
        #expect(grads == f.tensors.keys.filter { $0.hasPrefix("grad.") }.count)
        print("\(type(of: model)): \(grads) gradients; largest relative difference \(worst.1) (\(worst.0))")

        // Ten Adam steps from the initial state.
        try model.load(Dictionary(uniqueKeysWithValues: initial.map { (String($0.key.dropFirst(5)), $0.value) }))
        let adam = Adam(model, lr: 1e-3)
        var losses: [Float] = []
        for _ in 0..<10 {
            model.zeroGrad()
            let y = model.forward(t("x"))
            losses.append(crossEntropyForward(&probs, y.data, targets, B: B, K: K))
            crossEntropyBackward(&dlogits.data, probs, targets, B: B, K: K)
            _ = model.backward(dlogits)
            adam.step()
        }
        let expected = t("adam_losses").data
        let diff = zip(losses, expected).map { abs($0 - $1) }.max()!
        print("\(type(of: model)): ten Adam steps, losses \(losses.first!) → \(losses.last!), max difference \(diff)")
        #expect(diff < 1e-4, "\(losses) vs \(expected)")
    }

    @Test func resNet18MatchesPyTorch() throws {
        try Self.check(ResNet18(classes: 3, width: 4), try Self.fixture("resnet18_w4"))
    }

    @Test func vggMatchesPyTorch() throws {
        let config = VGG.vgg16.map { $0 / 16 }
        try Self.check(VGG(classes: 3, config: config, hidden: 16, dropout: 0), try Self.fixture("vgg_small"))
    }

    /// A frozen backbone gets no gradients and keeps its weights; the head's gradient is the full backward's.
    @Test func aFrozenBackboneTrainsOnlyTheHead() throws {
        let f = try Self.fixture("resnet18_w4")
        let initial = Dictionary(uniqueKeysWithValues: f.tensors.filter { $0.key.hasPrefix("init.") }.map { (String($0.key.dropFirst(5)), $0.value) })
        let model = ResNet18(classes: 3, width: 4)
        try model.load(initial)
        model.freeze()
        model.fc.freeze(false)
        let targets = f.tensors["target"]!.data.map { Int32($0) }
        let logits = model.forward(f.tensors["x"]!)
        var probs = [Float](repeating: 0, count: logits.count), d = Tensor(zeros: logits.shape)
        _ = crossEntropyForward(&probs, logits.data, targets, B: 4, K: 3)
        crossEntropyBackward(&d.data, probs, targets, B: 4, K: 3)
        _ = model.backward(d)
        for (name, p) in model.namedParams() where !p.isBuffer {
            #expect(p.hasGrad == name.hasPrefix("fc."), "\(name)")
        }
        #expect(model.fc.weight.grad.maxRelativeDifference(f.tensors["grad.fc.weight"]!) < 1e-4)
        let before = model.conv1.weight.value
        Adam(model, lr: 0.1).step()
        #expect(model.conv1.weight.value == before)
        #expect(model.fc.weight.value != initial["fc.weight"]!)
    }

    /// A training step skips the image's gradient (`firstConvolution.needsInputGradient = false`):
    /// every parameter gradient stays bit for bit what the full backward pass gives.
    @Test func skippingTheInputGradientChangesNoParameterGradient() throws {
        let f = try Self.fixture("resnet18_w4")
        let initial = Dictionary(uniqueKeysWithValues: f.tensors.filter { $0.key.hasPrefix("init.") }.map { (String($0.key.dropFirst(5)), $0.value) })
        let targets = f.tensors["target"]!.data.map { Int32($0) }
        func step(_ model: Module, inputGradient: Bool) throws -> (dx: Tensor, grads: [String: Tensor]) {
            model.firstConvolution!.needsInputGradient = inputGradient
            model.zeroGrad()
            let logits = model.forward(f.tensors["x"]!)
            var probs = [Float](repeating: 0, count: logits.count), d = Tensor(zeros: logits.shape)
            _ = crossEntropyForward(&probs, logits.data, targets, B: logits.shape[0], K: logits.shape[1])
            crossEntropyBackward(&d.data, probs, targets, B: logits.shape[0], K: logits.shape[1])
            let dx = model.backward(d)
            return (dx, Dictionary(uniqueKeysWithValues: model.namedParams().filter { !$0.1.isBuffer }.map { ($0.0, $0.1.grad) }))
        }
        let resnet = ResNet18(classes: 3, width: 4)
        #expect(resnet.firstConvolution === resnet.conv1)
        let vgg = VGG(classes: 3, config: VGG.vgg16.map { $0 / 16 }, hidden: 16, dropout: 0)
        #expect(vgg.firstConvolution != nil && vgg.firstConvolution === vgg.children[0].1.children[0].1)
        for model in [resnet, vgg] as [Module] {
            if model === resnet { try model.load(initial) }
            let full = try step(model, inputGradient: true)
            let skipped = try step(model, inputGradient: false)
            #expect(full.dx.count == f.tensors["x"]!.count && skipped.dx.count == 0)
            #expect(full.grads.count > 10 && full.grads == skipped.grads)
        }
    }

    @Test func loadingReportsEveryMismatchByName() throws {
        let model = ResNet18(classes: 3, width: 4)
        var state = model.stateDict()
        state["layer1.0.bn1.running_mean"] = Tensor(zeros: [8])
        state["fc.weight"] = nil
        state["head.weight"] = Tensor(zeros: [1])
        #expect { try model.load(state, file: "w.pth") } throws: { e in
            let s = "\(e)"
            return s.contains("w.pth: does not fit the model") && s.contains("missing keys: fc.weight")
                && s.contains("unexpected keys: head.weight") && s.contains("layer1.0.bn1.running_mean: expected [4], found [8]")
        }
        let lenient = try model.load(state, strict: false)
        #expect(lenient.missing == ["fc.weight"] && lenient.unexpected == ["head.weight"] && lenient.mismatched.count == 1)
    }

    @Test func parameterNamesAreTorchvisions() {
        let names = ResNet18(classes: 1000).namedParams().map(\.0)
        #expect(names.count == 122)   // 62 parameters + 60 buffers, as torchvision's resnet18().state_dict()
        for n in ["conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                  "layer2.0.downsample.1.num_batches_tracked", "layer4.1.bn2.bias", "fc.weight", "fc.bias"] {
            #expect(names.contains(n), "\(n)")
        }
        let vgg = VGG(classes: 1000).namedParams().map(\.0)
        #expect(vgg.count == 32 && vgg.contains("features.28.weight") && vgg.contains("classifier.6.bias"))
        let face = VGG(naming: .vggface, classes: 2622).namedParams().map(\.0)
        #expect(face.count == 32 && face.contains("conv5_3.weight") && face.contains("fc6.weight") && face.contains("fc8.bias"))
    }
}
