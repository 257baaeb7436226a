import Foundation
import Yams

/// `-p stage.key=value` on the command line: sets one parameter before validation, so an
/// overridden value is checked like a written one. Paths name a stage (or a top-level key such
/// as `seed`) and then keys and list positions: `augment.ops[3].color_jitter.hue=0.2`. The value
/// is YAML: `0.2`, `true`, `[label, lighting]`, `{p: 0.3}`.
enum Override {
    enum Step: Equatable { case key(String), index(Int) }

    static func apply(_ text: String, to node: Node, problems: Problems) -> Node {
        guard let eq = text.firstIndex(of: "=") else {
            problems.add(nil, "-p \(text): expected stage.key=value"); return node
        }
        let pathText = String(text[..<eq]), valueText = String(text[text.index(after: eq)...])
        guard var steps = parse(pathText), case .key(let first)? = steps.first else {
            problems.add(nil, "-p \(text): \(pathText) is not a parameter path such as augment.copies or augment.ops[3].color_jitter.hue")
            return node
        }
        let topLevel = ["name", "seed", "classes", "source", "workspace", "lock"]
        if !topLevel.contains(first) { steps.insert(.key("stages"), at: 0) }
        let value: Node
        do { value = try Yams.compose(yaml: valueText) ?? Node("", Tag(.null)) } catch {
            problems.add(nil, "-p \(text): the value \(valueText) is not valid YAML"); return node
        }
        do { return try set(node, steps[...], to: value) } catch {
            problems.add(nil, "-p \(text): \(error)"); return node
        }
    }

    static func parse(_ path: String) -> [Step]? {
        var steps: [Step] = []
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            guard let open = rest.firstIndex(of: "[") ?? Optional(rest.endIndex) else { return nil }
            let key = rest[..<open]
            guard !key.isEmpty else { return nil }
            steps.append(.key(String(key)))
            rest = rest[open...]
            while rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0 else { return nil }
                steps.append(.index(i))
                rest = rest[rest.index(after: close)...]
            }
            guard rest.isEmpty else { return nil }
        }
        return steps
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func set(_ node: Node, _ steps: ArraySlice<Step>, to value: Node) throws -> Node {
        guard let step = steps.first else { return value }
        let rest = steps.dropFirst()
        switch (step, node) {
        case (.key(let k), .mapping(let m)):
            var pairs = m.map { ($0.key, $0.value) }
            if let i = pairs.firstIndex(where: { $0.0.string == k }) {
                pairs[i].1 = try set(pairs[i].1, rest, to: value)
            } else {
                pairs.append((Node(k), try set(Node.mapping(.init([])), rest, to: value)))
            }
            return .mapping(Node.Mapping(pairs, m.tag, m.style, m.mark))
        case (.key(let k), _) where Section.isNull(node):
            return .mapping(Node.Mapping([(Node(k), try set(Node.mapping(.init([])), rest, to: value))]))
        case (.index(let i), .sequence(var s)):
            guard i < s.count else { throw Failure(description: "the list has \(s.count) items; [\(i)] is past its end") }
            s[i] = try set(s[i], rest, to: value)
            return .sequence(s)
        case (.key(let k), _):
            throw Failure(description: "\(k) is set on something that is not a mapping")
        case (.index(let i), .mapping(let m)) where m.isEmpty:
            throw Failure(description: "[\(i)] is taken of a list the manifest does not write out; write the list in the manifest to override one item")
        case (.index(let i), _):
            throw Failure(description: "[\(i)] is taken of something that is not a list")
        }
    }
}
