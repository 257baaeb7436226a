import FacetData
import FacetLearn

/// Everything a report shows, as `metrics.json`: the dataset, and each model's curves and test
/// metrics. Two of these are what `facet report --compare` reads.
public struct RunMetrics: Codable, Sendable, Equatable {
    public struct Dataset: Codable, Sendable, Equatable {
        /// Files in the dump, and what ingest did with them.
        public var found: Int
        public var accepted: Int
        public var quarantined: Int
        public var duplicates: Int
        public var quarantineReasons: [String: Int]
        /// Side of the training images, in pixels.
        public var imageSize: Int
        /// split → class → photos.
        public var photos: [String: [String: Int]]
        /// split → images in the dataset (augmented copies included).
        public var images: [String: Int]
        /// split → class → condition → value → photos.
        public var conditions: [String: [String: [String: [String: Int]]]]
        /// class → quality issue → photos.
        public var issues: [String: [String: Int]]
        /// Condition × label associations, as `facet audit` computes them.
        public var associations: [AuditReport.Association]
        /// Near-duplicate pairs across splits.
        public var leaks: Int
        /// Photos left out of the dataset (`crop: face` without a face), by reason; nil: none.
        public var leftOut: [String: Int]? = nil
        /// condition → why it is `unknown` → photos, and whether a condition is measured at all
        /// against the label, as `facet audit` gives them; nil: no unknown tag.
        public var unknown: [String: [String: Int]]? = nil
        public var unknownAssociations: [AuditReport.Association]? = nil

        enum CodingKeys: String, CodingKey {
            case found, accepted, quarantined, duplicates, photos, images, conditions, issues, associations, leaks, unknown
            case leftOut = "left_out", unknownAssociations = "unknown_associations"
            case quarantineReasons = "quarantine_reasons", imageSize = "image_size"
        }

        public init(found: Int, accepted: Int, quarantined: Int, duplicates: Int, quarantineReasons: [String: Int], imageSize: Int,
                    photos: [String: [String: Int]], images: [String: Int], conditions: [String: [String: [String: [String: Int]]]],
                    issues: [String: [String: Int]], associations: [AuditReport.Association], leaks: Int) {
            (self.found, self.accepted, self.quarantined, self.duplicates) = (found, accepted, quarantined, duplicates)
            (self.quarantineReasons, self.imageSize, self.photos, self.images) = (quarantineReasons, imageSize, photos, images)
            (self.conditions, self.issues, self.associations, self.leaks) = (conditions, issues, associations, leaks)
        }
    }

    public struct Slice: Codable, Sendable, Equatable {
        public var n: Int
        public var accuracy: Double
        public init(n: Int, accuracy: Double) { (self.n, self.accuracy) = (n, accuracy) }
    }

    public struct Miss: Codable, Sendable, Equatable {
        /// The test image, relative to the dataset folder.
        public var file: String
        /// The photo it came from, relative to the dump.
        public var source: String
        public var truth: String
        public var predicted: String
        public init(file: String, source: String, truth: String, predicted: String) {
            (self.file, self.source, self.truth, self.predicted) = (file, source, truth, predicted)
        }
    }

    public struct Model: Codable, Sendable, Equatable {
        public var name: String
        public var architecture: String
        /// `evaluated`, or `not_run` with the reason.
        public var status: String
        public var reason: String?
        public var finetune: String?
        public var bestEpoch: Int?
        public var epochs: [EpochLog]
        public var report: ClassificationReport?
        /// condition → value → accuracy on the test photos with that value.
        public var slices: [String: [String: Slice]]?
        public var misclassified: [Miss]?

        enum CodingKeys: String, CodingKey {
            case name, architecture, status, reason, finetune, epochs, report, slices, misclassified
            case bestEpoch = "best_epoch"
        }

        public init(name: String, architecture: String, status: String, reason: String? = nil, finetune: String? = nil, bestEpoch: Int? = nil,
                    epochs: [EpochLog] = [], report: ClassificationReport? = nil, slices: [String: [String: Slice]]? = nil, misclassified: [Miss]? = nil) {
            (self.name, self.architecture, self.status, self.reason, self.finetune) = (name, architecture, status, reason, finetune)
            (self.bestEpoch, self.epochs, self.report, self.slices, self.misclassified) = (bestEpoch, epochs, report, slices, misclassified)
        }
    }

    public var pipeline: String
    public var classes: [String]
    public var dataset: Dataset
    public var models: [Model]
    /// Condition slices of fewer test photos than this are shown greyed with their count, never
    /// marked low (`evaluate: {min_slice: …}`); nil: 10.
    public var minSlice: Int? = nil

    public init(pipeline: String, classes: [String], dataset: Dataset, models: [Model], minSlice: Int? = nil) {
        (self.pipeline, self.classes, self.dataset, self.models, self.minSlice) = (pipeline, classes, dataset, models, minSlice)
    }

    enum CodingKeys: String, CodingKey {
        case pipeline, classes, dataset, models
        case minSlice = "min_slice"
    }
}

extension RunMetrics {
    /// At most `count` of `misses` to show as thumbnails, taken in turn from every (truth,
    /// predicted) cell — largest cells first, each cell's photos in their order — so that every
    /// kind of mistake is seen, not the first class's only.
    public static func sample(_ misses: [RunMetrics.Miss], count: Int) -> [RunMetrics.Miss] {
        let cells = Self.cells(misses)
        var out: [RunMetrics.Miss] = []
        var round = 0
        while out.count < count, cells.contains(where: { $0.count > round }) {
            for cell in cells where cell.count > round && out.count < count { out.append(cell[round]) }
            round += 1
        }
        return out
    }

    /// `misses` by (truth, predicted) cell, the largest first (ties by truth, then predicted),
    /// each in its order: what the report shows and samples thumbnails from.
    static func cells(_ misses: [RunMetrics.Miss]) -> [[RunMetrics.Miss]] {
        Dictionary(grouping: misses) { "\($0.truth)\u{0}\($0.predicted)" }.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }.map(\.value)
    }
}

extension RunMetrics.Dataset {
    /// The dataset part of a report from the split stage's records and the dataset's.
    public static func summarize(records: [Record], dataset: [DatasetRecord], ingest: IngestSummary, imageSize: Int, leaks: Int,
                                 leftOut: [DatasetExport.LeftOut] = []) -> Self {
        var photos: [String: [String: Int]] = [:], conditions: [String: [String: [String: [String: Int]]]] = [:]
        for r in records {
            guard let label = r.label, let split = r.split else { continue }
            photos[split, default: [:]][label, default: 0] += 1
            if let k = r.conditions {
                for (name, tag) in [("lighting", k.lighting), ("background", k.background), ("occlusion", k.occlusion)] {
                    conditions[split, default: [:]][label, default: [:]][name, default: [:]][tag.value, default: 0] += 1
                }
            }
        }
        var images: [String: Int] = [:]
        for d in dataset { images[d.split, default: 0] += 1 }
        let audit = Audit.report(records)
        var out = Self(found: ingest.found, accepted: ingest.accepted, quarantined: ingest.quarantined, duplicates: ingest.duplicates,
                       quarantineReasons: ingest.quarantineReasons, imageSize: imageSize, photos: photos, images: images,
                       conditions: conditions, issues: audit.issues, associations: audit.associations, leaks: leaks)
        if !leftOut.isEmpty { out.leftOut = Dictionary(grouping: leftOut, by: \.reason).mapValues(\.count) }
        (out.unknown, out.unknownAssociations) = (audit.unknown, audit.unknownAssociations)
        return out
    }
}
