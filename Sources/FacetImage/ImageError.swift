/// Why a file could not be used as an image. Every case carries the path and a reason
/// a person can act on; `description` is the line to show.
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case empty          // zero bytes
        case truncated      // the data ends before the image does
        case notAnImage     // the bytes are not any image format
        case unsupported    // an image, but a format or variant facet does not decode
        case corrupt        // the codec rejected the data
        case tooLarge       // over the pixel or byte limit, refused before decoding
        case unreadable     // the file could not be opened or read
    }

    public let kind: Kind
    public let path: String
    public let reason: String

    public init(_ kind: Kind, path: String, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(kind.label): \(reason)" }

    /// The same error, naming another path (decoders work on bytes and learn the path late).
    public func at(_ path: String) -> ImageError { ImageError(kind, path: path, reason: reason) }
}

extension ImageError.Kind {
    /// Words for people: "not an image", "too large".
    public var label: String {
        switch self {
        case .empty: "empty file"
        case .truncated: "truncated"
        case .notAnImage: "not an image"
        case .unsupported: "unsupported"
        case .corrupt: "corrupt data"
        case .tooLarge: "too large"
        case .unreadable: "unreadable"
        }
    }
}
