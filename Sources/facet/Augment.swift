import ArgumentParser
import FacetCore
import FacetData
import FacetPipeline

extension Facet {
    struct Augment: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "augment",
            abstract: "Write the dataset: every split photo at the training size, training photos augmented (flips, blur, colour jitter).",
            discussion: """
            Output: WORKSPACE/dataset/SPLIT/CLASS/ID-COPY.jpg (an ImageFolder tree), manifest.jsonl and manifest.csv naming each
            image's source and every sampled parameter, augment.json with these options. Randomness is keyed by (seed, photo id,
            copy): outputs never depend on threads, order or which other photos exist. Operations follow torchvision's tensor
            semantics: RandomHorizontalFlip, RandomVerticalFlip, GaussianBlur (sigma drawn per sample), ColorJitter (random order).
            This is the pipeline's augment stage run on the workspace: a photo's images are kept in WORKSPACE/store (the dataset's
            files are hard links of them), so a rerun renders only photos it has not rendered with these options.
            """)
        @Argument(help: "Workspace (after split).") var workspace: String
        @Option(parsing: .upToNextOption, help: "Splits to augment (others are resized only).") var splits: [String] = ["train"]
        @Option(help: "Training size in pixels (square).") var size = 224
        @Option(help: "crop: shorter side to size, centre square; pad: longer side to size, black borders.") var policy = "crop"
        @Option(help: "Augmented copies per training photo.") var copies = 1
        @Flag(inversion: .prefixedNo, help: "Also write each training photo unaugmented (copy 0).") var keepSource = true
        @Option(help: "Random seed.") var seed: UInt64 = defaultSeed
        @Option(help: "JPEG quality of the written images.") var quality = 95
        @Option(help: "Probability of a horizontal flip.") var hflip = 0.5
        @Option(help: "Probability of a vertical flip.") var vflip = 0.5
        @Option(help: "Probability of a Gaussian blur.") var blur = 0.5
        @Option(help: "Gaussian blur kernel size (odd).") var blurKernel = 5
        @Option(help: "Gaussian blur sigma range, MIN,MAX.") var blurSigma = "0.1,2.0"
        @Option(help: "Colour jitter brightness (factor in [1-b, 1+b]).") var brightness = 0.4
        @Option(help: "Colour jitter contrast.") var contrast = 0.4
        @Option(help: "Colour jitter saturation.") var saturation = 0.4
        @Option(help: "Colour jitter hue (shift in [-h, h], h ≤ 0.5).") var hue = 0.1
        @Option(help: "frame: the whole photo (--policy); face: each face turned and scaled so its eyes are level at a fixed place (needs facet ingest --faces).") var crop = "frame"
        @Option(help: "With --crop face, a photo without a face is left out (skip, listed in dataset/left_out.jsonl) or framed (frame).") var missingFace = "skip"
        @Option(help: "Threads (default: all cores). The output is the same for any number.") var threads: Int?
        @Flag(help: "Render every photo again instead of taking its images from the cache.") var force = false
        @Option(help: "Recompute one dataset image (its path under dataset/) from its recorded parameters and compare.") var replay: String?

        func run() throws {
            if let replay {
                let same = try DatasetExport.replay(workspace: workspace, file: replay)
                print(same ? "\(replay): identical when replayed alone" : "\(replay): DIFFERS when replayed")
                if !same { throw ExitCode(1) }
                return
            }
            var o = AugmentOptions()
            o.splits = splits.flatMap { $0.split(separator: ",").map(String.init) }
            o.size = size
            guard let p = ResizePolicy(rawValue: policy) else { throw ValidationError("--policy is crop or pad, not \(policy)") }
            o.policy = p
            o.copies = copies
            o.keepSource = keepSource
            o.seed = seed
            o.quality = quality
            let sigma = blurSigma.split(separator: ",").compactMap { Double($0) }
            guard sigma.count == 2, sigma[0] > 0, sigma[0] <= sigma[1] else { throw ValidationError("--blur-sigma takes MIN,MAX with 0 < MIN ≤ MAX") }
            guard (0...0.5).contains(hue) else { throw ValidationError("--hue must be in 0…0.5") }
            for (name, value) in [("hflip", hflip), ("vflip", vflip), ("blur", blur)] where !(0...1).contains(value) {
                throw ValidationError("--\(name) is a probability in 0…1")
            }
            o.ops = [.hflip(p: hflip), .vflip(p: vflip), .gaussianBlur(p: blur, kernel: blurKernel, sigma: sigma[0]...sigma[1]),
                     .colorJitter(p: 1, brightness: brightness, contrast: contrast, saturation: saturation, hue: hue)]
            switch crop {
            case "frame": break
            case "face":
                o.face = FaceAlignment()
                guard let m = FaceAlignment.Missing(rawValue: missingFace) else { throw ValidationError("--missing-face is skip or frame, not \(missingFace)") }
                o.face!.missing = m
            default: throw ValidationError("--crop is frame or face, not \(crop)")
            }
            let progress = Progress(label: "augment", unit: "photos")
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
            let s = try AugmentWorkspace.run(workspace: workspace, options: o, threads: threads ?? 0, force: force,
                                             progress: { progress.update($0, of: $1) })
            progress.finish()
            print("wrote " + ["train", "val", "test"].map { "\(s.written[$0] ?? 0) \($0)" }.joined(separator: ", ") + " images to \(s.folder)"
                  + " (\(s.rendered) of \(s.photos) photos rendered, the rest from the cache)")
            if !s.leftOut.isEmpty {
                print("left out: " + s.leftOut.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                      + " (see \(s.folder)/left_out.jsonl)")
            }
        }
    }
}
