import FacetNN
import Foundation
import Testing

/// End-to-end: the real `facet` binary, its output and exit status.
@Suite struct CommandTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static func fixture(_ rel: String) -> String { packageRoot.appendingPathComponent("Tests/Fixtures/" + rel).path }

    /// The built binary beside the test bundle.
    static var binary: URL {
        var dir = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("facet")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/facet")
    }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    static func facet(_ args: [String], environment: [String: String] = [:], unset: [String] = []) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = args
        if !environment.isEmpty || !unset.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.filter { !unset.contains($0.key) }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func json(_ line: Substring) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
    }

    @Test func inspectReportsEveryFileAndFailsWhenAnyFails() throws {
        let files = [Self.fixture("exif-orientation/Landscape_6.jpg"), Self.fixture("pngsuite/basn3p04.png"),
                     Self.fixture("pngsuite/xcrn0g04.png"), "/nonexistent/photo.jpg", Self.fixture("jpeg-crashtest/empty.jpg")]
        let run = try Self.facet(["inspect", "--json"] + files)
        #expect(run.status == 1)
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == files.count)
        let objects = try lines.map(Self.json)
        for (object, file) in zip(objects, files) {
            #expect(object["path"] as? String == file)
            for key in ["ok", "format", "width", "height", "orientation", "error"] { #expect(object.keys.contains(key), "\(key)") }
        }
        #expect(objects[0]["ok"] as? Bool == true)
        #expect(objects[0]["format"] as? String == "jpeg")
        #expect(objects[0]["width"] as? Int == 1800 && objects[0]["height"] as? Int == 1200)
        #expect(objects[0]["orientation"] as? Int == 6)
        #expect(objects[0]["error"] is NSNull)
        #expect(objects[1]["ok"] as? Bool == true && objects[1]["width"] as? Int == 32)
        for failed in objects[2...] {
            #expect(failed["ok"] as? Bool == false)
            #expect((failed["error"] as? String)?.isEmpty == false)
        }
        #expect(objects[3]["error_kind"] as? String == "unreadable")
        #expect(objects[4]["error_kind"] as? String == "empty")
    }

    @Test func inspectTextAndSuccess() throws {
        let run = try Self.facet(["inspect", Self.fixture("exif-orientation/Portrait_8.jpg"), Self.fixture("pngsuite/basi2c16.png")])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].contains("Portrait_8.jpg: JPEG 1200x1800, orientation 8"))
        #expect(lines[1].contains("basi2c16.png: PNG 32x32"))
    }

    @Test func synthThenInspectTheDump() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facet-cli-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let synth = try Self.facet(["synth", dir, "--count", "6", "--size", "48", "--seed", "1"])
        #expect(synth.status == 0, "\(synth.stderr)")
        #expect(synth.stdout.contains("6 photos + 1 exact duplicates + 1 near duplicates + 1 broken files = 9 files"))
        let truth = try String(contentsOfFile: dir + "/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let files = truth.map { dir + "/" + String($0.split(separator: ",")[0]) }
        let inspect = try Self.facet(["inspect", "--json"] + files)
        #expect(inspect.status == 1)
        let objects = try inspect.stdout.split(separator: "\n").map(Self.json)
        #expect(objects.count == 9)
        #expect(objects.filter { $0["ok"] as? Bool == false }.count == 1)
    }

    /// `facet bench ops` times every augment step on a photo; a file that is not one is an error naming it.
    @Test func benchOpsTimesEveryStep() throws {
        let run = try Self.facet(["bench", "ops", Self.fixture("exif-orientation/Landscape_6.jpg"), "--repeats", "1", "--size", "64"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.map { $0.split(separator: " ")[1] } == ["decode", "resize", "hflip", "vflip", "blur", "brightness", "contrast", "saturation", "hue", "jpeg"])
        #expect(lines.allSatisfy { $0.hasSuffix(" ms") && Double($0.split(separator: " ").dropLast().last!)! >= 0 })
        let bad = try Self.facet(["bench", "ops", "/nonexistent/photo.jpg"])
        #expect(bad.status != 0 && bad.stderr.contains("/nonexistent/photo.jpg"), "\(bad.stderr)")
    }

    /// `facet bench conv` times each of ResNet18's convolutions by every path that can take it,
    /// each line naming its shape, its paths' times and the one facet takes; an input too small for
    /// the network is a usage error.
    @Test func benchConvTimesEachConvolutionByEveryPath() throws {
        let run = try Self.facet(["bench", "conv", "--size", "32", "--batch", "2", "--repeats", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.map { $0.components(separatedBy: ", batch")[0] }
                == ["conv 7×7/2 3→64 on 32×32", "conv 3×3/1 64→64 on 8×8", "conv 3×3/2 64→128 on 8×8", "conv 1×1/2 64→128 on 8×8",
                    "conv 3×3/1 128→128 on 4×4", "conv 3×3/2 128→256 on 4×4", "conv 1×1/2 128→256 on 4×4",
                    "conv 3×3/1 256→256 on 2×2", "conv 3×3/2 256→512 on 2×2", "conv 1×1/2 256→512 on 2×2", "conv 3×3/1 512→512 on 1×1"])
        // Every line times im2col both ways and marks one path taken; 3×3 of stride 1 also by Winograd's and the shifted path.
        #expect(lines.allSatisfy { $0.contains("batched ") && $0.contains("perImage ") && $0.components(separatedBy: "(taken)").count == 2 })
        #expect(lines.filter { $0.contains("3×3/1") }.allSatisfy { $0.contains("winograd ") && $0.contains("winograd4 ") && $0.contains("shifted ") })
        // The stem computes no input gradient; the last stage's 1×1 planes take the shifted path.
        #expect(lines[0].contains("(no input gradient)") && lines.last!.range(of: #"shifted [0-9.]+ \(taken\)"#, options: .regularExpression) != nil)
        let bad = try Self.facet(["bench", "conv", "--size", "8"])
        #expect(bad.status != 0 && bad.stderr.contains("--size"), "\(bad.stderr)")
    }

    /// `facet bench blas` says which OpenBLAS kernels run and why: a better set than OpenBLAS's
    /// fallback when the processor's flags allow one (the binary starts itself again with
    /// OPENBLAS_CORETYPE), OpenBLAS's own choice when that is no fallback, and always the user's
    /// OPENBLAS_CORETYPE when it is set. The binary runs without the variable, whatever the tests'
    /// environment holds, so the restart is what is tested.
    @Test func theBinaryRunsTheBestKernelsAndKeepsTheUsersChoice() throws {
        let variables = ["OPENBLAS_CORETYPE", "FACET_OPENBLAS_FALLBACK"]
        let run = try Self.facet(["bench", "blas", "--repeats", "0"], unset: variables)
        #expect(run.status == 0, "\(run.stderr)")
        let words = run.stdout.split(separator: " ")
        let core = words.count > 1 ? String(words[1]) : ""
        let flags = BLASCore.processorFlags()
        if let range = run.stdout.range(of: "chosen by facet (OpenBLAS fell back to ") {
            let fallback = String(run.stdout[range.upperBound...].prefix { $0 != " " })
            #expect(BLASCore.preferred(over: fallback, flags: flags) == core, "\(run.stdout)")
        } else {
            #expect(run.stdout == "OpenBLAS \(core) kernels, OpenBLAS's own choice\n")
            #expect(BLASCore.preferred(over: core, flags: flags) == nil, "\(run.stdout)")
        }
        let infer = try Self.facet(["bench", "infer", "--arch", "resnet18", "--size", "32", "--batch", "2", "--steps", "1"], unset: variables)
        #expect(infer.status == 0 && infer.stdout.contains("OpenBLAS \(core) kernels"), "\(infer.stdout)")
        let chosen = try Self.facet(["bench", "blas", "--repeats", "0"], environment: ["OPENBLAS_CORETYPE": "Prescott"], unset: [variables[1]])
        #expect(chosen.stdout == "OpenBLAS Prescott kernels, set by OPENBLAS_CORETYPE\n", "\(chosen.stdout)")
    }

    /// `facet bench train --profile` adds where the timed step went: the step's parts, which add up
    /// to the total it prints, and each convolution shape with its path and each batch norm plane,
    /// forward and backward, whose times lie within their pass's. Without the flag, only the rate.
    @Test func benchTrainProfileSaysWhereTheStepWent() throws {
        let args = ["bench", "train", "--arch", "resnet18", "--size", "32", "--batch", "2", "--steps", "2"]
        let plain = try Self.facet(args)
        #expect(plain.status == 0 && plain.stdout.split(separator: "\n").count == 1, "\(plain.stdout)")
        let run = try Self.facet(args + ["--profile"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        func ms(_ line: String) -> Double { Double(line.split(separator: " ", omittingEmptySubsequences: true)[0])! }
        func part(_ label: String) -> String? { lines.first { $0.contains("  \(label) (") } }
        let steps = ["step: forward", "step: backward", "step: Adam", "step: zero gradients", "step: loss"].compactMap(part)
        #expect(steps.count == 5, "\(run.stdout)")
        let total = lines.last!
        #expect(total.hasSuffix("ms per step in all (the step: lines add up to it; the others are parts of them)"))
        #expect(abs(steps.map(ms).reduce(0, +) - ms(total)) < 0.05 * Double(steps.count), "\(run.stdout)")
        // ResNet18 at 32 px: the stem unfolded, the last stage's 1×1 planes on the shifted path.
        #expect(part("conv 7×7/2 3→64 on 32×32 (batched) forward") != nil || part("conv 7×7/2 3→64 on 32×32 (perImage) forward") != nil,
                "\(run.stdout)")
        #expect(part("conv 3×3/1 512→512 on 1×1 (shifted) backward")?.hasSuffix("(3 calls)") == true, "\(run.stdout)")
        for pass in ["forward", "backward"] {
            let parts = lines.filter { ($0.contains("  conv ") || $0.contains("  batch norm ")) && $0.contains(" \(pass) (") }
            #expect(parts.count >= 10 && parts.map(ms).reduce(0, +) <= ms(part("step: \(pass)")!) + 0.01 * Double(parts.count), "\(run.stdout)")
        }
    }

    @Test func badArgumentsAreValidationErrors() throws {
        let run = try Self.facet(["synth", "/tmp/never-written", "--count", "0"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("--count must be at least 1"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written"))
        let help = try Self.facet(["--help"])
        #expect(help.status == 0 && help.stdout.contains("synth") && help.stdout.contains("inspect"))
    }
}

extension CommandTests {
    @Test func curationCommandsEndToEnd() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("facet-cli-cur-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dump = root + "/dump", ws = root + "/ws"
        #expect(try Self.facet(["synth", dump, "--count", "9", "--size", "64", "--seed", "3"]).status == 0)
        let ingest = try Self.facet(["ingest", dump, "-o", ws])
        #expect(ingest.status == 0, "\(ingest.stderr)")
        #expect(ingest.stdout.contains("13 files found: 10 accepted + 2 quarantined + 1 exact duplicates"))

        let wrong = try Self.facet(["label", ws, "--classes", "happy", "sad"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("\"neutral\" (3)"), "\(wrong.stderr)")

        let label = try Self.facet(["label", ws])
        #expect(label.status == 0 && label.stdout.contains("labelled 10"), "\(label.stdout)")
        let tag = try Self.facet(["tag", ws])
        #expect(tag.status == 0 && tag.stdout.contains("lighting:"))
        let audit = try Self.facet(["audit", ws, "--json"])
        #expect(audit.status == 0)
        let report = try Self.json(Substring(audit.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(report["photos"] as? Int == 10)
        #expect((report["associations"] as? [Any])?.count == 3)

        let missing = try Self.facet(["ingest", root + "/nowhere", "-o", ws])
        #expect(missing.status == 1 && missing.stderr.contains(root + "/nowhere"))
    }
}
