import FacetCore
import FacetImage
import Foundation

// The one codec of facet's records: for each record type, how it is written (`JSONWriter`) and,
// beside it, how it is read (`JSONReader`), members in the order of the keys. `Codable`'s
// `CodingKeys` (Record.swift, Augment.swift) name the same keys for `JSONEncoder`/`JSONDecoder`,
// which only errors and tests go through; `JSONRecordTests` checks on random records that this
// codec writes Foundation's bytes and reads what Foundation reads.

extension Record: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("bytes", bytes)
            w.member("camera", camera)
            w.member("conditions", conditions)
            w.member("face", face)
            w.member("features", features)
            w.member("format", format.rawValue)
            w.member("group", group)
            w.member("height", height)
            w.member("id", id)
            w.member("issues", issues)
            w.member("label", label)
            w.member("orientation", orientation)
            w.member("phash", phash)
            w.member("quality", quality)
            w.member("source", source)
            w.member("split", split)
            w.member("taken", taken)
            w.member("warnings", warnings)
            w.member("width", width)
        }
    }
}

extension Record: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var id, source, phash, group: String?
        var format: ImageFormat?
        var width, height, orientation, bytes: Int?
        var taken, camera, label, split: String?
        var quality: Quality?
        var features: Features?
        var issues, warnings: [String]?
        var conditions: Conditions?
        var face: FaceFinding?
        try r.object { r, key in
            switch key {
            case "id": id = try r.string()
            case "source": source = try r.string()
            case "format": format = try r.raw(ImageFormat.self)
            case "width": width = try r.int()
            case "height": height = try r.int()
            case "orientation": orientation = try r.int()
            case "bytes": bytes = try r.int()
            case "taken": taken = try r.optionalString()
            case "camera": camera = try r.optionalString()
            case "quality": quality = try Quality(&r)
            case "issues": issues = try r.strings()
            case "features": features = try Features(&r)
            case "phash": phash = try r.string()
            case "conditions": conditions = r.null() ? nil : try Conditions(&r)
            case "face": face = r.null() ? nil : try FaceFinding(&r)
            case "label": label = try r.optionalString()
            case "group": group = try r.string()
            case "split": split = try r.optionalString()
            case "warnings": warnings = try r.optionalStrings()
            default: try r.skip()
            }
        }
        self.init(id: try required(id, "id", r), source: try required(source, "source", r), format: try required(format, "format", r),
                  width: try required(width, "width", r), height: try required(height, "height", r),
                  orientation: try required(orientation, "orientation", r), bytes: try required(bytes, "bytes", r),
                  taken: taken, camera: camera, quality: try required(quality, "quality", r), issues: try required(issues, "issues", r),
                  features: try required(features, "features", r), phash: try required(phash, "phash", r), conditions: conditions,
                  label: label, group: try required(group, "group", r), split: split, warnings: warnings)
        self.face = face
    }
}

extension FaceFinding: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("box", box)
            w.member("faces", faces)
            w.member("landmarks", landmarks.flatMap { [$0.x, $0.y] })
            w.member("others", others)
            w.member("searched_height", searchedHeight)
            w.member("searched_width", searchedWidth)
            w.member("upsample", upsample)
        }
    }
}

extension FaceFinding: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var faces, width, height, upsample: Int?
        var box: FaceBox?
        var flat: [Double]?
        var others: [FaceBox]?
        try r.object { r, key in
            switch key {
            case "faces": faces = try r.int()
            case "box": box = r.null() ? nil : try FaceBox(&r)
            case "landmarks": flat = try r.doubles()
            case "others": others = try r.items(FaceBox.self)
            case "searched_width": width = try r.int()
            case "searched_height": height = try r.int()
            case "upsample": upsample = try r.int()
            default: try r.skip()
            }
        }
        let points = try required(flat, "landmarks", r)
        guard points.count % 2 == 0 else { throw r.fail("an odd count of landmark coordinates") }
        self.init(faces: try required(faces, "faces", r), box: box, landmarks: FacePoint.pairs(points),
                  others: try required(others, "others", r), searchedWidth: try required(width, "searched_width", r),
                  searchedHeight: try required(height, "searched_height", r), upsample: try required(upsample, "upsample", r))
    }
}

extension FaceBox: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("bottom", bottom)
            w.member("left", left)
            w.member("right", right)
            w.member("score", score)
            w.member("top", top)
        }
    }
}

extension FaceBox: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var v = [Double?](repeating: nil, count: 5)
        let names = ["left", "top", "right", "bottom", "score"]
        try r.object { r, key in
            if let k = names.firstIndex(of: key) { v[k] = try r.double() } else { try r.skip() }
        }
        for (k, x) in v.enumerated() where x == nil { throw r.missing(names[k]) }
        self.init(left: v[0]!, top: v[1]!, right: v[2]!, bottom: v[3]!, score: v[4]!)
    }
}

extension Quality: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("blurry", blurry)
            w.member("dark", dark)
            w.member("grayscale", grayscale)
            w.member("light", light)
            w.member("low_information", lowInformation)
            w.member("odd_aspect", oddAspect)
            w.member("odd_size", oddSize)
        }
    }
}

extension Quality: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var v = [Double?](repeating: nil, count: 7)
        let names = ["dark", "light", "blurry", "low_information", "odd_aspect", "odd_size", "grayscale"]
        try r.object { r, key in
            if let k = names.firstIndex(of: key) { v[k] = try r.double() } else { try r.skip() }
        }
        for (k, x) in v.enumerated() where x == nil { throw r.missing(names[k]) }
        self.init(dark: v[0]!, light: v[1]!, blurry: v[2]!, lowInformation: v[3]!, oddAspect: v[4]!, oddSize: v[5]!, grayscale: v[6]!)
    }
}

extension Features: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("asymmetry", asymmetry)
            w.member("background_chroma", backgroundChroma)
            w.member("background_edges", backgroundEdges)
            w.member("background_share", backgroundShare)
            w.member("border_chroma", borderChroma)
            w.member("border_edges", borderEdges)
            w.member("brightness", brightness)
            w.member("exif_brightness", exifBrightness)
            w.member("face_brightness", faceBrightness)
            w.member("foreign", foreign)
        }
    }
}

extension Features: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var v = [Double?](repeating: nil, count: 10)
        let names = ["brightness", "exif_brightness", "border_edges", "border_chroma", "asymmetry", "foreign",
                     "face_brightness", "background_share", "background_edges", "background_chroma"]
        try r.object { r, key in
            if let k = names.firstIndex(of: key) { v[k] = try r.optionalDouble() } else { try r.skip() }
        }
        for (k, x) in v.enumerated() where x == nil && k != 1 && k < 6 { throw r.missing(names[k]) }
        self.init(brightness: v[0]!, exifBrightness: v[1], borderEdges: v[2]!, borderChroma: v[3]!, asymmetry: v[4]!, foreign: v[5]!,
                  faceBrightness: v[6], backgroundShare: v[7], backgroundEdges: v[8], backgroundChroma: v[9])
    }
}

extension Conditions: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("background", background)
            w.member("lighting", lighting)
            w.member("occlusion", occlusion)
            w.member("source", source)
        }
    }
}

extension Conditions: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var lighting, background, occlusion: Tag?
        var source: String?
        try r.object { r, key in
            switch key {
            case "lighting": lighting = try Tag(&r)
            case "background": background = try Tag(&r)
            case "occlusion": occlusion = try Tag(&r)
            case "source": source = try r.string()
            default: try r.skip()
            }
        }
        self.init(lighting: try required(lighting, "lighting", r), background: try required(background, "background", r),
                  occlusion: try required(occlusion, "occlusion", r), source: try required(source, "source", r))
    }
}

extension Conditions.Tag: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("reason", reason)
            w.member("score", score)
            w.member("source", source)
            w.member("value", value)
        }
    }
}

extension Conditions.Tag: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var value, source, reason: String?
        var score: Double?
        try r.object { r, key in
            switch key {
            case "reason": reason = try r.optionalString()
            case "value": value = try r.string()
            case "score": score = try r.optionalDouble()
            case "source": source = try r.string()
            default: try r.skip()
            }
        }
        self.init(value: try required(value, "value", r), score: score, reason: reason)
        self.source = try required(source, "source", r)
    }
}

extension DatasetRecord: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("augment", augment)
            w.member("background", background)
            w.member("copy", copy)
            w.member("derived_from", derivedFrom)
            w.member("eyes", eyes)
            w.member("file", file)
            w.member("framed", framed)
            w.member("id", id)
            w.member("label", label)
            w.member("lighting", lighting)
            w.member("occlusion", occlusion)
            w.member("source", source)
            w.member("split", split)
        }
    }
}

extension DatasetRecord: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var file, id, derivedFrom, source, split, label: String?
        var lighting, background, occlusion: String?
        var copy: Int?
        var augment: [AppliedOp]?
        var eyes: [Double]?
        var framed: String?
        try r.object { r, key in
            switch key {
            case "eyes": eyes = r.null() ? nil : try r.doubles()
            case "framed": framed = try r.optionalString()
            case "file": file = try r.string()
            case "id": id = try r.string()
            case "derived_from": derivedFrom = try r.string()
            case "source": source = try r.string()
            case "split": split = try r.string()
            case "label": label = try r.string()
            case "lighting": lighting = try r.optionalString()
            case "background": background = try r.optionalString()
            case "occlusion": occlusion = try r.optionalString()
            case "copy": copy = try r.int()
            case "augment": augment = try r.items(AppliedOp.self)
            default: try r.skip()
            }
        }
        self.init(file: try required(file, "file", r), id: try required(id, "id", r), derivedFrom: try required(derivedFrom, "derived_from", r),
                  source: try required(source, "source", r), split: try required(split, "split", r), label: try required(label, "label", r),
                  lighting: lighting, background: background, occlusion: occlusion, copy: try required(copy, "copy", r),
                  augment: try required(augment, "augment", r), eyes: eyes, framed: framed)
    }
}

extension DatasetRecord {
    /// A line of a dataset manifest read for its image alone (`file` and `id`), the other members
    /// skipped: what keeping a dataset folder in step with its manifest needs.
    public struct Image: JSONReadable, Sendable {
        public var file: String
        public var id: String

        public init(_ r: inout JSONReader) throws {
            var file, id: String?
            try r.object { r, key in
                switch key {
                case "file": file = try r.string()
                case "id": id = try r.string()
                default: try r.skip()
                }
            }
            (self.file, self.id) = (try required(file, "file", r), try required(id, "id", r))
        }
    }
}

extension AppliedOp: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("applied", applied)
            w.member("brightness", brightness)
            w.member("contrast", contrast)
            w.member("hue", hue)
            w.member("kernel", kernel)
            w.member("op", op)
            w.member("order", order)
            w.member("saturation", saturation)
            w.member("sigma", sigma)
        }
    }
}

extension AppliedOp: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var op: String?
        var applied: Bool?
        var a = AppliedOp(op: "", applied: false)
        try r.object { r, key in
            switch key {
            case "op": op = try r.string()
            case "applied": applied = try r.bool()
            case "kernel": a.kernel = try r.optionalInt()
            case "sigma": a.sigma = try r.optionalDouble()
            case "order": a.order = try r.optionalStrings()
            case "brightness": a.brightness = try r.optionalDouble()
            case "contrast": a.contrast = try r.optionalDouble()
            case "saturation": a.saturation = try r.optionalDouble()
            case "hue": a.hue = try r.optionalDouble()
            default: try r.skip()
            }
        }
        a.op = try required(op, "op", r)
        a.applied = try required(applied, "applied", r)
        self = a
    }
}

extension DatasetExport.LeftOut: JSONWritable {
    public func write(_ w: inout JSONWriter) {
        w.object { w in
            w.member("id", id)
            w.member("label", label)
            w.member("reason", reason)
            w.member("source", source)
            w.member("split", split)
        }
    }
}

extension DatasetExport.LeftOut: JSONReadable {
    public init(_ r: inout JSONReader) throws {
        var v = [String?](repeating: nil, count: 5)
        let names = ["id", "source", "split", "label", "reason"]
        try r.object { r, key in
            if let k = names.firstIndex(of: key) { v[k] = try r.string() } else { try r.skip() }
        }
        for (k, x) in v.enumerated() where x == nil { throw r.missing(names[k]) }
        self.init(id: v[0]!, source: v[1]!, split: v[2]!, label: v[3]!, reason: v[4]!)
    }
}
