import FacetData
import FacetLearn
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import FacetReport

/// A small run: one model evaluated, one not run; a class name that needs escaping.
func sampleRun(accuracyShift: Int = 0) -> RunMetrics {
    let classes = ["happy", "normal", "s<a>d"]
    let truth = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    var predicted = [0, 0, 1, 1, 1, 2, 2, 2, 0, 2]
    for i in 0..<accuracyShift { predicted[i] = truth[i] }
    let report = ClassificationReport(truth: truth, predicted: predicted, classes: classes)
    let epochs = (1...4).map { (e: Int) -> EpochLog in
        let x = Double(e)
        return EpochLog(epoch: e, trainLoss: 1.2 / x, trainAccuracy: 0.3 + 0.15 * x, valLoss: 1.3 / x, valAccuracy: 0.25 + 0.12 * x, seconds: nil)
    }
    let misses = zip(truth, predicted).enumerated().filter { $0.element.0 != $0.element.1 }.map {
        RunMetrics.Miss(file: "test/x/\($0.offset).jpg", source: "raw/\($0.offset).jpg", truth: classes[$0.element.0], predicted: classes[$0.element.1])
    }
    let dataset = RunMetrics.Dataset(
        found: 12, accepted: 10, quarantined: 1, duplicates: 1, quarantineReasons: ["not an image": 1], imageSize: 64,
        photos: ["test": ["happy": 3, "normal": 3, "s<a>d": 4]], images: ["test": 10],
        conditions: ["test": ["happy": ["lighting": ["bright": 2, "dim": 1]]]], issues: ["happy": ["dark": 1]], associations: [], leaks: 0)
    return RunMetrics(pipeline: "sample", classes: classes, dataset: dataset, models: [
        .init(name: "scratch", architecture: "resnet18", status: "evaluated", finetune: "all", bestEpoch: 3, epochs: epochs, report: report,
              slices: ["lighting": ["bright": .init(n: 6, accuracy: 0.5), "dim": .init(n: 4, accuracy: 1)]], misclassified: misses),
        .init(name: "vggface", architecture: "vggface", status: "not_run", reason: "weights file weights/vgg_face_dag.pth not found"),
    ])
}

func wellFormed(_ xml: String) -> Bool {
    XMLParser(data: Data(xml.utf8)).parse()
}

@Test func reportHasEverySectionAndEscapes() throws {
    let m = sampleRun()
    let files = try Report.build(m, thumbnails: ["test/x/2.jpg": [0xFF, 0xD8, 0xFF, 0xD9]])
    let html = String(decoding: files.html, as: UTF8.self)
    for id in ["models", "curves", "robustness", "model-scratch", "model-vggface", "dataset"] {
        #expect(html.contains("<section id=\"\(id)\">"), "section \(id)")
    }
    #expect(html.contains("s&lt;a&gt;d") && !html.contains("s<a>d"))
    #expect(html.contains("not run: weights file weights/vgg_face_dag.pth not found"))
    #expect(html.contains("70.0%"))                         // 7 of 10 right
    #expect(html.contains("data:image/jpeg;base64,/9j/2Q=="))
    #expect(html.contains("2 more without a thumbnail"))     // 3 misses, one with a picture
    #expect(!html.contains("<script"))
    #expect(!html.contains("src=\"http"))                    // self-contained
    // The figures: overlay accuracy and loss, and the evaluated model's two curves and confusion matrix.
    #expect(files.figures.map(\.name) == ["curves-accuracy.svg", "curves-loss.svg", "scratch-accuracy.svg", "scratch-loss.svg", "scratch-confusion.svg"])
    for f in files.figures {
        #expect(wellFormed(f.svg), "\(f.name) is well-formed XML")
        #expect(html.contains(f.svg), "\(f.name) is inline in the page")
    }
    let back = try JSONDecoder().decode(RunMetrics.self, from: Data(files.metrics))
    #expect(back == m)
}

@Test func confusionMatrixShowsEveryCount() {
    let svg = ConfusionChart(title: "t", classes: ["a", "b"], counts: [[5, 1], [0, 7]]).svg()
    #expect(wellFormed(svg))
    for n in [">5<", ">1<", ">0<", ">7<"] { #expect(svg.contains(n)) }
    // The diagonal at full share is the deepest blue; an empty cell is white.
    #expect(svg.contains("fill=\"#ffffff\""))
}

@Test func ticksAreRoundAndCoverTheRange() {
    #expect(LineChart.ticks(0, 1, count: 5) == [0, 0.25, 0.5, 0.75, 1])
    let epochs = LineChart.ticks(1, 10, count: 8, integers: true)
    #expect(epochs.allSatisfy { $0 == $0.rounded() } && epochs.first! <= 1 && epochs.last! >= 10)
    let t = LineChart.ticks(0.37, 1.93, count: 5)
    #expect(t.first! <= 0.37 && t.last! >= 1.93)
}

@Test func comparisonShowsWhatChanged() {
    let a = sampleRun(), b = sampleRun(accuracyShift: 3)
    var bNoModel = b
    bNoModel.models[1].status = "evaluated"
    bNoModel.models[1].report = b.models[0].report
    let c = RunComparison(a, bNoModel)
    let acc = c.rows.first { $0.model == "scratch" && $0.metric == "test accuracy" }
    #expect(acc?.a == 0.7 && acc?.b == 0.8)
    #expect(c.notes.contains { $0.hasPrefix("vggface: not run") && $0.hasSuffix("→ evaluated") })
    let text = c.text("A", "B")
    #expect(text.contains("scratch: test accuracy") && text.contains("+0.1000"))
    let same = RunComparison(a, a)
    #expect(same.text("A", "A").contains("no metric changed"))
}

/// The dataset section says how many tags are unknown and why, and flags a condition measured far
/// less often in one class than another, as `facet audit` does.
@Test func reportShowsUnknownTagsAndTheirSkew() throws {
    var m = sampleRun()
    m.dataset.associations = [AuditReport.Association(condition: "occlusion", cramersV: 0.05, strong: false, findings: [])]
    m.dataset.unknown = ["occlusion": ["no face found": 34, "no colour: the occlusion cues are skin colours": 3]]
    m.dataset.unknownAssociations = [AuditReport.Association(condition: "occlusion", cramersV: 0.375, strong: true,
                                                             findings: ["sad photos are 34% measured (all photos: 60%)"])]
    let html = String(decoding: try Report.build(m, thumbnails: [:]).html, as: UTF8.self)
    #expect(html.contains("Unknown occlusion (not measured, left out of Cramér's V): 3 no colour: the occlusion cues are skin colours; 34 no face found."))
    #expect(html.contains("<b>occlusion measured or not × label</b>: Cramér's V 0.375 — strong")
            && html.contains("(sad photos are 34% measured (all photos: 60%))"))
    m.dataset.unknownAssociations![0].strong = false
    let calm = String(decoding: try Report.build(m, thumbnails: [:]).html, as: UTF8.self)
    #expect(calm.contains("34 no face found") && !calm.contains("measured or not × label"))
}

/// Thumbnails of misclassified photos come from every (truth, predicted) cell in turn, not the
/// first mistakes only, and the page gives each cell's count.
@Test func misclassifiedThumbnailsSampleEveryCell() throws {
    func miss(_ i: Int, _ t: String, _ p: String) -> RunMetrics.Miss { RunMetrics.Miss(file: "test/\(t)/\(i).jpg", source: "raw/\(i).jpg", truth: t, predicted: p) }
    // 30 happy → sad first, as an evaluation lists them class by class, then 4 normal → happy and 1 sad → normal.
    let misses = (0..<30).map { miss($0, "happy", "sad") } + (30..<34).map { miss($0, "normal", "happy") } + [miss(34, "sad", "normal")]
    let picked = RunMetrics.sample(misses, count: 8)
    #expect(picked.count == 8)
    #expect(Set(picked.map { "\($0.truth)→\($0.predicted)" }) == ["happy→sad", "normal→happy", "sad→normal"])
    #expect(picked.filter { $0.truth == "normal" }.count == 3 && picked.filter { $0.truth == "happy" }.count == 4)
    #expect(RunMetrics.sample(misses, count: 100).count == misses.count)
    var m = sampleRun()
    m.models[0].misclassified = misses
    let html = String(decoding: try Report.build(m, thumbnails: Dictionary(uniqueKeysWithValues: picked.map { ($0.file, [0xFF, 0xD8, 0xFF, 0xD9]) })).html, as: UTF8.self)
    #expect(html.contains("happy → sad: 30 photos, 4 shown") && html.contains("normal → happy: 4 photos, 3 shown") && html.contains("sad → normal: 1 photo</h4>"))
}
