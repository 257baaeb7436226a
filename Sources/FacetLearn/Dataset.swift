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

    struct Line: Decodable { var file: String; var split: String; var label: String; var lighting: String?; var background: String?; var occlusion: String? }

    /// Reads `folder/manifest.jsonl` and decodes every image (all cores). Every image must be
    /// `size` × `size` (the dataset's training size); a missing or broken one is an error naming it.
    public static func load(_ folder: String, classes: [String], progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> ImageDataset {
        let path = folder + "/manifest.jsonl"
        guard let data = FileManager.default.contents(atPath: path) else { throw WeightError("\(path): missing; run facet augment (or facet run) first") }
        var items: [Item] = []
        let decoder = JSONDecoder()
        for (i, line) in data.split(separator: 0x0A).enumerated() {
            let l: Line
            do { l = try decoder.decode(Line.self, from: Data(line)) } catch { throw WeightError("\(path):\(i + 1): not a dataset record") }
            guard let label = classes.firstIndex(of: l.label) else {
                throw WeightError("\(path):\(i + 1): label \(l.label) is not one of \(classes.joined(separator: ", "))")
            }
            var conditions: [String: String] = [:]
            for (k, v) in [("lighting", l.lighting), ("background", l.background), ("occlusion", l.occlusion)] { if let v { conditions[k] = v } }
            items.append(Item(file: l.file, label: label, split: l.split, conditions: conditions))
        }
        guard !items.isEmpty else { throw WeightError("\(path): no images") }
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
