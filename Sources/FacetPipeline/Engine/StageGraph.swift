import Foundation

/// The stage graph: which stages read which, in a deterministic order.
public enum StageGraph {
    /// Topological order of `present` by `reads`, ties broken by `StageKind` order (Kahn's algorithm).
    public static func order(_ present: Set<StageKind>) -> [StageKind] {
        var indegree = Dictionary(uniqueKeysWithValues: present.map { k in (k, k.reads.filter(present.contains).count) })
        var ready = present.filter { indegree[$0] == 0 }.sorted()
        var out: [StageKind] = []
        while !ready.isEmpty {
            let k = ready.removeFirst()
            out.append(k)
            for next in present.sorted() where next.reads.contains(k) {
                indegree[next]! -= 1
                if indegree[next] == 0 { ready.append(next); ready.sort() }
            }
        }
        precondition(out.count == present.count, "the stage graph has a cycle")  // fixed kinds: a programming error
        return out
    }

    /// `stage` and every stage it reads from, directly or not.
    public static func ancestors(of stage: StageKind, in present: Set<StageKind>) -> Set<StageKind> {
        var seen: Set<StageKind> = [stage]
        var stack = [stage]
        while let k = stack.popLast() {
            for r in k.reads where present.contains(r) && seen.insert(r).inserted { stack.append(r) }
        }
        return seen
    }

    /// Text for `facet dag`: each stage, what it reads, and what it writes.
    public static func describe(_ p: PipelineManifest) -> String {
        let present = Set(p.stages.keys)
        var lines: [String] = []
        for k in order(present) {
            let reads = k.reads.filter(present.contains).map(\.rawValue)
            let from = k.reads.isEmpty ? "the dump \(p.source)" : reads.joined(separator: " + ")
            lines.append("\(k.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) ← \(from)   → \(k.outputs.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }
}
