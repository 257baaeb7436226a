import FacetCore
import FacetData
import Foundation
import Yams

/// A pipeline manifest (`Pipelines/NAME.yaml`), validated: every key known, every value of its
/// type and range, every file it names present. Documented key by key in Pipelines/README.md.
public struct PipelineManifest: Sendable {
    /// The manifest file, as given.
    public var file: String
    public var name: String
    public var seed: UInt64
    public var classes: [String]
    /// Absolute paths: the photo dump (never written to), the workspace, the lock file.
    public var source: String
    public var workspace: String
    public var lock: String
    /// Relative paths in the manifest are relative to this folder: the one holding `Pipelines/`
    /// when the manifest lives in a `Pipelines` folder, else the manifest's own folder.
    public var root: String
    /// The stages present, by kind, with their parameters.
    public var stages: [StageKind: StageParameters]

    /// The largest manifest read: a pipeline's is a few kilobytes.
    public static let maxBytes = 1 << 20

    /// Reads and validates `file`; `overrides` are `stage.key=value` settings applied first.
    public static func load(_ file: String, overrides: [String] = []) throws -> PipelineManifest {
        var st = stat()
        if stat(file, &st) == 0, Int(st.st_size) > maxBytes {
            throw ManifestError(file: file, issues: [.init(line: 1, column: 1, message: "is \(st.st_size) bytes; a pipeline manifest may hold at most \(maxBytes >> 20) MB")])
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ManifestError(file: file, issues: [.init(line: 1, column: 1, message: "cannot be read")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ManifestError(file: file, issues: [.init(line: 1, column: 1, message: "is not UTF-8 text")])
        }
        return try parse(text, file: file, overrides: overrides)
    }

    public static func parse(_ text: String, file: String, overrides: [String] = []) throws -> PipelineManifest {
        var node: Node
        do {
            guard let n = try Yams.compose(yaml: text) else {
                throw ManifestError(file: file, issues: [.init(line: 1, column: 1, message: "is empty")])
            }
            node = n
        } catch let e as YamlError {
            throw ManifestError(file: file, issues: [YamlProblem.issue(e)])
        }
        let problems = Problems()
        for o in overrides { node = Override.apply(o, to: node, problems: problems) }
        let manifest = read(node, file: file, root: root(of: file), problems: problems)
        guard problems.issues.isEmpty, let manifest else {
            throw ManifestError(file: file, issues: problems.issues.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return manifest
    }

    static func read(_ node: Node, file: String, root: String, problems: Problems) -> PipelineManifest? {
        let top = Section(node, path: "", problems: problems)
        let name = top.string("name", default: nil)
        if top.node("name") == nil { problems.add(top.mark, "name is missing: give the pipeline a name") }
        if let name, let problem = SafePaths.nameProblem(name) { problems.add(top.markOf("name"), "name \(problem)") }
        let seed = top.int("seed", default: Int(defaultSeed), in: 0...Int.max)
        let classes = top.strings("classes", default: ["happy", "normal", "sad"])
        if classes.count < 2 { problems.add(top.markOf("classes"), "classes must name at least two classes") }
        for c in classes {
            guard let problem = SafePaths.nameProblem(c) else { continue }
            let item = top.node("classes")?.sequence?.first { $0.string == c }
            problems.add(item?.mark ?? top.markOf("classes"), "class name \(problem)")
        }
        func path(_ key: String, required: Bool) -> String? {
            guard let p = top.string(key, default: nil) else {
                if required { problems.add(top.mark, "\(key) is missing") }
                return nil
            }
            return absolute(p, root: root)
        }
        let source = path("source", required: true)
        let workspace = path("workspace", required: true)
        let lock = path("lock", required: false) ?? absolute("Manifests/\(name ?? "pipeline").lock", root: root)
        if let source, !isFolder(source) {
            problems.add(top.markOf("source"), "source \(source) is not a folder (the photo dump); for the demo, facet demo makes it")
        }
        if let source, let workspace, let problem = SafePaths.overlapProblem(workspace: workspace, dump: source) {
            problems.add(top.markOf("workspace"), problem)
        }

        var stages: [StageKind: StageParameters] = [:]
        if let n = top.node("stages") {
            guard case .mapping(let m) = n else {
                problems.add(n.mark, "stages must be a mapping of stage names to their parameters")
                top.finish()
                return nil
            }
            for (k, v) in m {
                guard let key = k.string, let kind = StageKind(rawValue: key) else {
                    let word = k.string ?? "?"
                    let later = ["report"].contains(word)
                    problems.add(k.mark, later ? "stage \(word) is not available yet in this version of facet"
                                               : "unknown stage \(word)" + Suggest.hint(word, StageKind.allCases.map(\.rawValue) + ["report"]))
                    continue
                }
                let section = Section(v, path: key, problems: problems)
                stages[kind] = StageParameters.read(kind, section, root: root, seed: UInt64(seed), classes: classes)
                section.finish()
            }
        } else {
            problems.add(top.mark, "stages is missing: a pipeline needs at least an ingest stage")
        }
        top.finish()
        for kind in stages.keys.sorted() {
            for need in kind.requires where stages[need] == nil {
                problems.add(top.markOf("stages"), "stage \(kind.rawValue) needs a \(need.rawValue) stage")
            }
        }
        guard let name, let source, let workspace else { return nil }
        for kind in stages.keys.sorted() {
            if let problem = stages[kind]!.stage.problem(with: stages) { problems.add(top.markOf("stages"), problem) }
        }
        return PipelineManifest(file: file, name: name, seed: UInt64(seed), classes: classes, source: source,
                                workspace: workspace, lock: lock, root: root, stages: stages)
    }

    /// The photo dump a manifest names, resolved, without validating the rest (for `facet demo`,
    /// which makes the dump before the manifest can be validated).
    public static func source(of file: String) throws -> String {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
              let node = try? Yams.compose(yaml: text), let source = node["source"]?.string else {
            throw ManifestError(file: file, issues: [.init(line: 1, column: 1, message: "cannot be read, or names no source")])
        }
        let folder = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        return absolute(source, root: folder.lastPathComponent == "Pipelines" ? folder.deletingLastPathComponent().path : folder.path)
    }

    /// The folder a manifest's relative paths start from (`root`).
    static func root(of file: String) -> String {
        let folder = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        return folder.lastPathComponent == "Pipelines" ? folder.deletingLastPathComponent().path : folder.path
    }

    static func absolute(_ path: String, root: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return URL(fileURLWithPath: expanded.hasPrefix("/") ? expanded : root + "/" + expanded).standardizedFileURL.path
    }

    static func isFolder(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
    }
}

enum YamlProblem {
    static func issue(_ e: YamlError) -> ManifestError.Issue {
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _):
            let what = [context?.text, problem].compactMap { $0 }.joined(separator: ": ")
            return .init(line: mark.line, column: mark.column, message: "not valid YAML: \(what)")
        case let .composer(context, problem, mark, _):
            return .init(line: mark.line, column: mark.column, message: "not valid YAML: " + [context?.text, problem].compactMap { $0 }.joined(separator: ": "))
        default:
            return .init(line: 1, column: 1, message: "not valid YAML: \(e)")
        }
    }
}
