import Foundation

/// The rules for anything that becomes a path: names that become one path component (the
/// pipeline's, a class's, a model's), and the workspace, which may never overlap the dump.
public enum SafePaths {
    /// Why `name` cannot be one path component, or nil when it can: it must not be empty, `.` or
    /// `..`, and must hold no `/`, NUL or other control character.
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name == "." || name == ".." { return "\"\(name)\" would name a folder above or at its own" }
        if name.contains("/") { return "\"\(printable(name))\" holds a \"/\"; a name becomes one folder or file name" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "\"\(printable(name))\" holds a control character"
        }
        return nil
    }

    /// Why `path` cannot be a path relative to its folder, or nil: it must not be empty or
    /// absolute, and no component may be `..`.
    public static func relativePathProblem(_ path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.hasPrefix("/") { return "\"\(printable(path))\" is absolute" }
        if path.split(separator: "/", omittingEmptySubsequences: false).contains("..") { return "\"\(printable(path))\" climbs out of its folder" }
        return nil
    }

    /// `name` with control characters written as \u{…}, to show it on one line.
    public static func printable(_ name: String) -> String {
        name.unicodeScalars.map { $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }

    /// `path` absolute, with every symbolic link resolved; the part that does not exist yet is
    /// appended to the resolved folder that does.
    public static func resolved(_ path: String) -> String {
        var existing = URL(fileURLWithPath: path).standardizedFileURL.path
        var rest: [String] = []
        var found = realpath(existing, nil)
        while found == nil, existing != "/" {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
            found = realpath(existing, nil)
        }
        guard let real = found else { return path }
        defer { free(real) }
        let base = String(cString: real)
        return rest.isEmpty ? base : URL(fileURLWithPath: base).appendingPathComponent(rest.joined(separator: "/")).standardizedFileURL.path
    }

    /// Why `workspace` cannot hold outputs for the dump at `dump`, or nil: it may not be the dump,
    /// lie inside it or contain it, judged on resolved paths (symbolic links followed).
    public static func overlapProblem(workspace: String, dump: String) -> String? {
        let w = resolved(workspace), d = resolved(dump)
        let (ws, ds) = (w.hasSuffix("/") ? w : w + "/", d.hasSuffix("/") ? d : d + "/")
        if ws == ds { return "the workspace \(workspace) is the photo dump\(w == workspace ? "" : " (\(w))"); facet never writes into the dump" }
        if ws.hasPrefix(ds) { return "the workspace \(workspace) lies inside the photo dump \(d); facet never writes into the dump" }
        if ds.hasPrefix(ws) { return "the workspace \(workspace) contains the photo dump \(d); choose a workspace beside it" }
        return nil
    }
}
