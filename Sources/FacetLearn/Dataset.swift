import FacetCore
import FacetImage
import FacetNN
import Foundation
import Synchronization

/// The images of an exported dataset (`facet augment`'s ImageFolder tree and its
/// `manifest.jsonl`), decoded once and kept as 8-bit pixels.
public struct ImageDataset: Sendable {
    /// One image: where it is, its class index, its split, and the conditions it was tagged with.
    public struct Item: Sendable {
        public var file: String
        public var label: Int
        public var split: String
        public var conditions: [String: String]
    }
    public var classes: [String]
    public var items: [Item]
    public var images: [Image]
    public var size: Int

    /// A line of the dataset's manifest as training needs it. The caller reads the manifest (its
    /// one codec is FacetData's `DatasetRecord`; FacetPipeline's `ImageDataset.load(dataset:)`).
    public struct Entry: Sendable {
        public var file: String
        public var label: String
        public var split: String
        public var conditions: [String: String]

        public init(file: String, label: String, split: String, conditions: [String: String]) {
            (self.file, self.label, self.split, self.conditions) = (file, label, split, conditions)
        }
    }

    /// Decodes the images of `entries` under `folder` (all cores). Every image must be `size` ×
    /// `size` (the dataset's training size); a missing or broken one is an error naming it, and
    /// so is a label outside `classes` (`manifest` names the list in errors, its lines counted from 1).
    public static func load(_ folder: String, entries: [Entry], classes: [String], manifest: String,
                            progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> ImageDataset {
        var items: [Item] = []
        for (i, e) in entries.enumerated() {
            guard let label = classes.firstIndex(of: e.label) else {
                throw WeightError("\(manifest):\(i + 1): label \(e.label) is not one of \(classes.joined(separator: ", "))")
            }
            items.append(Item(file: e.file, label: label, split: e.split, conditions: e.conditions))
        }
        guard !items.isEmpty else { throw WeightError("\(manifest): no images") }
        let folderPath = folder
        let files = items.map(\.file)
        let images = try parallelMap(files.count, progress: progress) { i in
            do { return try ImageDecoder.decode(file: folderPath + "/" + files[i]).image } catch {
                throw WeightError("dataset \(folderPath): \(error)")
            }
        }
        let size = images[0].width
        if let bad = images.indices.first(where: { images[$0].width != size || images[$0].height != size || images[$0].channels != 3 }) {
            throw WeightError("\(folder)/\(items[bad].file): \(images[bad].width)×\(images[bad].height), not the dataset's \(size)×\(size) RGB")
        }
        return ImageDataset(classes: classes, items: items, images: images, size: size)
    }

    /// Indices of the items of one split, in manifest order.
    public func indices(_ split: String) -> [Int] { items.indices.filter { items[$0].split == split } }

    /// A batch tensor and its labels.
    public func batch(_ indices: ArraySlice<Int>, architecture: Architecture) -> (Tensor, [Int32]) {
        (Preprocess.tensor(indices.map { images[$0] }, architecture: architecture), indices.map { Int32(items[$0].label) })
    }
}
