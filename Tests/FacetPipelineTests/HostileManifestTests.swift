import Foundation
import Testing
@testable import FacetData
@testable import FacetPipeline

/// Names that would become paths, and workspaces that would write into the dump, are refused when
/// the manifest is validated: at their line and column, before anything runs (issue 24, cases 4–5).
@Suite struct HostileManifestTests {
    static func problems(_ yaml: String, prepare: (String) throws -> Void = { _ in }) throws -> [String] {
        let dir = Support.temp("hostile")
        try FileManager.default.createDirectory(atPath: dir + "/raw/happy", withIntermediateDirectories: true)
        try prepare(dir)
        do {
            _ = try PipelineManifest.parse(yaml, file: dir + "/p.yaml")
            return []
        } catch let e as ManifestError {
            return e.issues.map { "\($0.line):\($0.column): \($0.message)" }
        }
    }

    static func manifest(name: String = "t", classes: String = "[happy, normal, sad]", workspace: String = "ws",
                         model: String = "scratch") -> String {
        """
        name: \(name)
        classes: \(classes)
        source: raw
        workspace: \(workspace)
        stages:
          ingest: {}
          label: {from: folders, aliases: {x: happy}}
          split: {test: 0.25, val: 0.2}
          augment: {size: 32}
          train: {epochs: 1, models: {"\(model)": {arch: resnet18}}}
        """
    }

    @Test func theCleanManifestPasses() throws {
        #expect(try Self.problems(Self.manifest()) == [])
    }

    @Test func namesThatWouldClimbOutOfTheirFolderAreRefusedAtTheirPlace() throws {
        #expect(try Self.problems(Self.manifest(name: "../../../x")) == [#"1:7: name "../../../x" holds a "/"; a name becomes one folder or file name"#])
        #expect(try Self.problems(Self.manifest(name: "\"..\"")) == [#"1:7: name ".." would name a folder above or at its own"#])
        #expect(try Self.problems(Self.manifest(classes: "[happy, \"../../../x\", sad]")) ==
                [#"2:18: class name "../../../x" holds a "/"; a name becomes one folder or file name"#])
        #expect(try Self.problems(Self.manifest(classes: "[happy, \"a\\u0000b\", sad]")) ==
                [#"2:18: class name "a\u{0}b" holds a control character"#])
        #expect(try Self.problems(Self.manifest(classes: "[happy, \"\", sad]")) == ["2:18: class name is empty"])
        #expect(try Self.problems(Self.manifest(model: "../up")).contains { $0.hasPrefix("10:31: model name \"../up\" holds a \"/\"") })
        #expect(try Self.problems(Self.manifest(model: "a\\tb")).contains { $0.hasSuffix("holds a control character") })
    }

    @Test func aWorkspaceThatIsInsideOrAroundTheDumpIsRefused() throws {
        for (workspace, says) in [("raw", "is the photo dump"), ("raw/out", "lies inside the photo dump"), ("raw/happy", "lies inside the photo dump"),
                                  (".", "contains the photo dump"), ("link", "is the photo dump"), ("link/ws", "lies inside the photo dump")] {
            let issues = try Self.problems(Self.manifest(workspace: workspace)) { dir in
                try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/raw")
            }
            #expect(issues.count == 1 && issues[0].hasPrefix("4:12: the workspace") && issues[0].contains(says), "\(workspace): \(issues)")
        }
        // A dump reached through a link to a folder above the workspace is caught on resolved paths too.
        let issues = try Self.problems(Self.manifest(workspace: "up/raw/w")) { dir in
            try FileManager.default.createSymbolicLink(atPath: dir + "/up", withDestinationPath: dir)
        }
        #expect(issues.count == 1 && issues[0].contains("lies inside the photo dump"), "\(issues)")
    }

    @Test func ingestRefusesAWorkspaceInTheDumpItself() throws {
        let dir = Support.temp("ingest-overlap")
        try FileManager.default.createDirectory(atPath: dir + "/raw", withIntermediateDirectories: true)
        for ws in [dir + "/raw", dir + "/raw/ws", dir] {
            #expect(throws: DataError.self) { try Ingest.run(dump: dir + "/raw", workspace: ws) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/raw") == [], "nothing written into the dump")
    }
}
