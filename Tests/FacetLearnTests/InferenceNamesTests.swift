import FacetImage
import FacetNN
import Foundation
import Testing
@testable import FacetLearn

/// `facet infer` with ImageNet weights names the class (issue 28: it printed "class 82"); other
/// heads stay numbered.
@Test func imageNetWeightsNameTheirClasses() throws {
    #expect(ImageNetClasses.names.count == 1000 && Set(ImageNetClasses.names).count == 1000)
    #expect(ImageNetClasses.names[0] == "tench" && ImageNetClasses.names[82] == "ruffed grouse" && ImageNetClasses.names[999] == "toilet tissue")
    let folder = NSTemporaryDirectory() + "facet-names-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let image = folder + "/x.png"
    var pixels = [UInt8](repeating: 0, count: 32 * 32 * 3)
    for i in pixels.indices { pixels[i] = UInt8((i * 37) % 256) }
    try Data(try ImageEncoder.png(Image(width: 32, height: 32, channels: 3, pixels: pixels))).write(to: URL(fileURLWithPath: image))
    for (classes, named) in [(1000, true), (3, false)] {
        let weights = folder + "/resnet18-\(classes).safetensors"
        try Safetensors.write(Architecture.resnet18.make(classes: classes).stateDict(), to: weights)
        let c = try Classifier.pretrained(.resnet18, weights: weights, size: 32)
        #expect((c.classes == ImageNetClasses.names) == named && (c.classes == nil) == !named)
        let p = try #require(c.classify([image]).first)
        #expect(named ? ImageNetClasses.names.contains(p.label ?? "") : p.label == nil, "\(String(describing: p.label))")
    }
}
