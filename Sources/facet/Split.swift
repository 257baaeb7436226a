import ArgumentParser
import FacetCore
import FacetData

extension Facet {
    struct Split: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "split",
            abstract: "Split labelled photos into train/val/test, stratified, groups kept whole; then check for leakage.",
            discussion: """
            --test is taken first from all labelled photos, --val from what remains: a whole number is a count,
            a number below 1 a fraction. The study: --test 865 --val 0.2.
            """)
        @Argument(help: "Workspace (after ingest and label).") var workspace: String
        @Option(help: "Test photos: a count (865) or a fraction of all (0.15).") var test = "0.15"
        @Option(help: "Validation photos: a count or a fraction of what remains after test.") var val = "0.2"
        @Option(parsing: .upToNextOption, help: "Stratify by label and any of lighting, background, occlusion.") var stratify: [String] = ["label"]
        @Option(help: "Random seed.") var seed: UInt64 = defaultSeed
        @Flag(help: "Assign by a keyed hash of each photo's group: adding photos later never moves one (fractions only).") var stable = false
        @Option(help: "Keep photos together whose paths give the same first capture group of this pattern (one person): JAFFE's '^([A-Z]{2})\\.'.") var groupByPath: String?
        @Option(help: "Keep photos together that this sheet (a file column) gives the same --group-column value.") var groupBySheet: String?
        @Option(help: "The column of --group-by-sheet that names the person or group.") var groupColumn: String?
        @Flag(help: "Keep photos taken on one day (EXIF date) together.") var groupByDay = false

        var groupBy: GroupBy? {
            get throws {
                let given = [groupByPath != nil, groupBySheet != nil, groupByDay].filter { $0 }.count
                if given > 1 { throw ValidationError("give one of --group-by-path, --group-by-sheet, --group-by-day") }
                if let groupByPath { return .path(pattern: groupByPath) }
                if let groupBySheet {
                    guard let groupColumn else { throw ValidationError("--group-by-sheet needs --group-column NAME") }
                    return .sheet(path: groupBySheet, column: groupColumn)
                }
                return groupByDay ? .takenDay : nil
            }
        }

        static func amount(_ text: String, _ name: String) throws -> SplitOptions.Amount {
            if let k = Int(text) { return .count(k) }
            if let f = Double(text), f >= 0, f < 1 { return .fraction(f) }
            throw ValidationError("--\(name) takes a count (865) or a fraction below 1 (0.2), not \(text)")
        }

        func run() throws {
            var o = SplitOptions()
            o.test = try Self.amount(test, "test")
            o.val = try Self.amount(val, "val")
            o.stratify = stratify.flatMap { $0.split(separator: ",").map(String.init) }
            o.seed = seed
            o.stable = stable
            o.groupBy = try groupBy
            let s = try Splitting.run(workspace: workspace, options: o)
            print(s.table)
            if s.unlabelled > 0 { print("\(s.unlabelled) unlabelled photos left out of the split") }
            let leaks = try Leakage.check(workspace: workspace)
            print("leakage check: \(leaks.count) near-duplicate pairs across splits")
            for p in leaks.prefix(20) { print("  \(p.a) (\(p.splits[0])) ~ \(p.b) (\(p.splits[1])): \(p.hashDistance) bits apart") }
        }
    }
}
