import FacetData
import FacetImage
import FacetLearn
import FacetReport
import Foundation

/// `report:` — the run's metrics gathered from the upstream stages' outputs, a self-contained
/// HTML page (FacetReport), its figures and `metrics.json`, all in the store; shown in
/// `WORKSPACE/reports/RUN`, with `WORKSPACE/report` a link to the newest.
struct ReportStage: PipelineStage {
    static let kind = StageKind.report
    static let requires: [StageKind] = [.evaluate]
    static let reads: [StageKind] = [.evaluate, .train, .split, .augment, .ingest]
    static let outputs = ["html", "metrics", "figures"]
    /// 2: misclassified thumbnails sampled across every (truth, predicted) cell, with each cell's count.
    static let version = 2
    /// How many misclassified photos are shown as thumbnails.
    var thumbnails: Int

    init(_ s: Section, _ c: StageContext) {
        thumbnails = s.int("thumbnails", default: 24, in: 0...10_000)
    }

    func inputs(_ upstream: [StageKind: [String: String]], _ pipeline: Pipeline, keepDump: DumpKeeper) throws -> [String: String]? {
        take(upstream, [(.evaluate, "metrics"), (.train, "models"), (.split, "records"), (.split, "leaks"),
                        (.augment, "manifest"), (.augment, "options"), (.augment, "left_out"), (.ingest, "summary")])
    }

    func materialize(_ outputs: [String: String], previous: [String: String]?, _ pipeline: Pipeline, memo: Memo) throws {
        try pipeline.materializeReport(outputs)
    }

    func execute(_ run: StageRun) throws -> StageResult {
        let (store, manifest, memo, inputs) = (run.store, run.manifest, run.memo, run.inputs)
        let trained = try store.lines(TrainedModel.self, inputs["train.models"]!)
        let evaluations = try store.lines(ModelEvaluation.self, inputs["evaluate.metrics"]!)
        let records = try memo.records(inputs["split.records"]!)
        let hash = inputs["augment.manifest"]!
        let dataset = try memo.dataset[hash] ?? store.lines(DatasetRecord.self, hash)
        guard let ingest = try store.lines(IngestCounts.self, inputs["ingest.summary"]!).first else {
            throw DataError("report: the ingest summary is empty")
        }
        let leaks = try store.get(inputs["split.leaks"]!).filter { $0 == 0x0A }.count
        let options = try JSONDecoder().decode(AugmentOptions.self, from: Data(store.get(inputs["augment.options"]!)))
        var finetune: [String: String] = [:]
        if let t = manifest.stages[.train]?.stage as? TrainStage {
            for m in t.models { finetune[m.name] = m.config.finetune.text }
        }
        let byFile = Dictionary(dataset.map { ($0.file, $0) }) { a, _ in a }
        var models: [RunMetrics.Model] = []
        var pictures: [String: [UInt8]] = [:]
        for t in trained {
            var m = RunMetrics.Model(name: t.name, architecture: t.architecture, status: t.status, reason: t.reason,
                                     finetune: finetune[t.name], bestEpoch: t.bestEpoch)
            if let log = t.log { m.epochs = try store.lines(EpochLog.self, log) }
            if let e = evaluations.first(where: { $0.name == t.name }), let report = e.report {
                m.status = e.status
                m.report = report
                m.slices = e.slices?.mapValues { $0.mapValues { RunMetrics.Slice(n: $0.n, accuracy: $0.accuracy) } }
                m.misclassified = (e.misclassified ?? []).map {
                    RunMetrics.Miss(file: $0.file, source: byFile[$0.file]?.source ?? "", truth: $0.truth, predicted: $0.predicted)
                }
                for miss in RunMetrics.sample(m.misclassified ?? [], count: thumbnails) where pictures[miss.file] == nil {
                    if let r = byFile[miss.file] { pictures[miss.file] = try Self.thumbnail(store.get(r.id)) }
                }
            }
            models.append(m)
        }
        var counts = IngestSummary()
        (counts.found, counts.accepted, counts.quarantined, counts.duplicates, counts.quarantineReasons)
            = (ingest.found, ingest.accepted, ingest.quarantined, ingest.duplicates, ingest.quarantineReasons)
        let leftOut = try inputs["augment.left_out"].map { try store.lines(DatasetExport.LeftOut.self, $0) } ?? []
        let summary = RunMetrics.Dataset.summarize(records: records, dataset: dataset, ingest: counts, imageSize: options.size, leaks: leaks,
                                                   leftOut: leftOut)
        let metrics = RunMetrics(pipeline: manifest.name, classes: manifest.classes, dataset: summary, models: models,
                                 minSlice: evaluations.compactMap(\.minSlice).first)
        let files = try Report.build(metrics, thumbnails: pictures)
        var figures: [FigureEntry] = []
        for f in files.figures { figures.append(FigureEntry(name: f.name, hash: try store.put(Array(f.svg.utf8)))) }
        let evaluated = models.filter { $0.report != nil }.count
        return StageResult(outputs: ["html": try store.put(files.html), "metrics": try store.put(files.metrics), "figures": try store.putLines(figures)],
                           note: "\(evaluated) of \(models.count) models reported, \(figures.count) figures, \(pictures.count) thumbnails")
    }

    /// A misclassified test image, 112 px on its longer side, as a small JPEG.
    static func thumbnail(_ bytes: [UInt8]) throws -> [UInt8] {
        let image = try ImageDecoder.decode(bytes).image
        let scale = 112.0 / Double(max(image.width, image.height))
        let small = scale < 1 ? image.resized(width: max(1, Int((Double(image.width) * scale).rounded())),
                                              height: max(1, Int((Double(image.height) * scale).rounded()))) : image
        return try ImageEncoder.jpeg(small, quality: 85)
    }
}

extension Pipeline {

    /// WORKSPACE/reports/RUN/{index.html, metrics.json, figures/*.svg}, RUN the first 12 hex
    /// digits of the page's hash; WORKSPACE/report is a link to the newest.
    func materializeReport(_ outputs: [String: String]) throws {
        let fm = FileManager.default
        let run = String(outputs["html"]!.prefix(12))
        let dir = Self.reports(manifest.workspace) + "/" + run
        try fm.createDirectory(atPath: dir + "/figures", withIntermediateDirectories: true)
        for f in try store.lines(FigureEntry.self, outputs["figures"]!) {
            guard !f.name.contains("/"), !f.name.hasPrefix(".") else { throw DataError("report: bad figure name \(f.name)") }
            try copyIfChanged(f.hash, to: dir + "/figures/" + f.name)
        }
        try copyIfChanged(outputs["metrics"]!, to: dir + "/metrics.json")
        try copyIfChanged(outputs["html"]!, to: dir + "/index.html")
        let link = Self.latestReport(manifest.workspace)
        if (try? fm.destinationOfSymbolicLink(atPath: link)) != "reports/" + run {
            let temp = link + ".tmp"
            try? fm.removeItem(atPath: temp)
            try fm.createSymbolicLink(atPath: temp, withDestinationPath: "reports/" + run)
            guard rename(temp, link) == 0 else { throw DataError("\(link): cannot be replaced (errno \(errno))") }
        }
    }

    /// Where the reports of a workspace's runs are kept.
    public static func reports(_ workspace: String) -> String { workspace + "/reports" }
    /// A link to the newest run's report folder.
    public static func latestReport(_ workspace: String) -> String { workspace + "/report" }
}

/// One figure of a report in the store.
struct FigureEntry: Codable, Sendable {
    var name: String
    var hash: String
}

/// The counts of the ingest stage's stored summary.
struct IngestCounts: Decodable {
    var found: Int
    var accepted: Int
    var quarantined: Int
    var duplicates: Int
    var quarantineReasons: [String: Int]
}

extension TrainConfig.Finetune {
    /// As manifests write it: `all`, `head`, `last:N`.
    var text: String {
        switch self {
        case .all: "all"
        case .head: "head"
        case .last(let n): "last:\(n)"
        }
    }
}
