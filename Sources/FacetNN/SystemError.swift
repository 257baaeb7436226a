import Foundation

/// Foundation's file errors as a sentence: `NSCocoaErrorDomain Code=640 …` becomes "the disk is
/// full (no space left on the device)", with the file named by the caller or by the error.
public enum SystemError {
    /// Why an operation on a file failed, in words: the POSIX reason underneath when there is one.
    public static func reason(_ error: Error) -> String {
        let e = error as NSError
        if e.domain == NSPOSIXErrorDomain { return posix(Int32(e.code)) }
        if let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return posix(Int32(underlying.code))
        }
        if e.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: e.code) {
            case .fileWriteOutOfSpace: return posix(ENOSPC)
            case .fileWriteNoPermission, .fileReadNoPermission: return posix(EACCES)
            case .fileNoSuchFile, .fileReadNoSuchFile: return posix(ENOENT)
            case .fileWriteVolumeReadOnly: return posix(EROFS)
            case .fileWriteFileExists: return posix(EEXIST)
            case .fileReadTooLarge: return "the file is too large to read"
            case .fileReadCorruptFile: return "the file is damaged"
            case .fileReadInapplicableStringEncoding, .fileWriteInapplicableStringEncoding: return "the text is not in the expected encoding"
            default: break
            }
        }
        return e.localizedDescription
    }

    /// The file a Foundation error names, if any.
    public static func path(_ error: Error) -> String? {
        let info = (error as NSError).userInfo
        return info[NSFilePathErrorKey] as? String ?? (info[NSURLErrorKey] as? URL)?.path
    }

    /// Whether `error` is one of Foundation's (Cocoa or POSIX domain), which need translating.
    public static func isFoundation(_ error: Error) -> Bool {
        let domain = (error as NSError).domain
        return domain == NSCocoaErrorDomain || domain == NSPOSIXErrorDomain
    }

    /// One line for any error: its own description for facet's errors, which already name the
    /// file and the problem; "PATH: reason" for Foundation's.
    public static func sentence(_ error: Error) -> String {
        guard isFoundation(error) else { return "\(error)" }
        return [path(error), reason(error)].compactMap { $0 }.joined(separator: ": ")
    }

    static func posix(_ code: Int32) -> String {
        switch code {
        case ENOSPC: "the disk is full (no space left on the device)"
        case EDQUOT: "the disk quota is used up"
        case EFBIG: "the file would be larger than this system allows"
        default: String(cString: strerror(code)).lowercased()
        }
    }
}
