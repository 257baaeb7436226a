import FacetCore
import FacetData
import FacetImage
import Foundation

/// The lock file (`Manifests/NAME.lock` by default): per stage, the cache key of its last
/// completed run, the parameters and inputs that made it, and the hashes of its outputs.
/// Indented JSON with sorted keys and no times, so it diffs cleanly in git and the same run
/// writes the same bytes.
public struct LockFile: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var key: String
        public var version: Int
        public var params: Value
        /// Input name → content hash: `dump`, `tag.records`, `file:overrides`, …
        public var inputs: [String: String]
        /// Output name → content hash in the store.
        public var outputs: [String: String]
    }
    public var pipeline: String
    public var stages: [String: Entry] = [:]

    public static func read(_ path: String) throws -> LockFile? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(LockFile.self, from: data) } catch {
            throw DataError("\(path): not a facet lock file (\(error)); delete it to start afresh")
        }
    }

    public func write(_ path: String) throws {
        try AtomicFile.write(Array((asValue.pretty() + "\n").utf8), to: path)
    }

    var asValue: Value {
        .object(["pipeline": .string(pipeline), "stages": .object(stages.mapValues { e in
            .object(["key": .string(e.key), "version": .int(e.version), "params": e.params,
                     "inputs": .object(e.inputs.mapValues(Value.string)), "outputs": .object(e.outputs.mapValues(Value.string))])
        })])
    }
}

/// One `facet run` at a time per workspace: an exclusive `flock` on `WORKSPACE/.run-lock`,
/// which the kernel frees when the holder exits or dies, so a killed run never leaves it stuck.
public final class RunLock {
    private let fd: Int32

    public init(workspace: String) throws {
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        let path = workspace + "/.run-lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DataError("\(path): cannot be opened (\(String(cString: strerror(errno))))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            close(fd)
            throw PipelineBusy(workspace: workspace, holder: holder)
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit { close(fd) }
}

/// Another `facet run` holds the workspace.
public struct PipelineBusy: Error, CustomStringConvertible {
    public var workspace: String
    public var holder: String
    public var description: String {
        "\(workspace) is in use by another facet run (process \(holder)); wait for it to finish or stop it, then run again"
    }
}
