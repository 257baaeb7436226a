import FacetData
import FacetLearn
import Foundation

/// The HTML of a report: one file, no scripts, no external resources.
struct Page {
    var metrics: RunMetrics
    var figures: Figures
    var thumbnails: [String: [UInt8]]

    static let conditionOrder = ["lighting", "background", "occlusion"]

    func html() -> String {
        let m = metrics
        let evaluated = m.models.filter { $0.report != nil }
        var body = "<header><h1>facet report: \(escape(m.pipeline))</h1>"
        let testPhotos = m.dataset.photos["test"]?.values.reduce(0, +) ?? 0
        body += "<p class=\"sub\">\(m.classes.count) classes (\(m.classes.map(escape).joined(separator: ", "))) · \(m.dataset.accepted) photos accepted · "
            + "\(m.dataset.imageSize) px · \(testPhotos) test photos · \(evaluated.count) of \(m.models.count) models evaluated</p></header>"
        body += "<nav>" + [("models", "Models"), ("curves", "Training curves"), ("robustness", "Robustness")].map { "<a href=\"#\($0.0)\">\($0.1)</a>" }.joined()
            + m.models.map { "<a href=\"#model-\(escape($0.name))\">\(escape($0.name))</a>" }.joined() + "<a href=\"#dataset\">Dataset</a></nav>"
        body += section("models", "Models", comparison())
        body += section("curves", "Training curves", figures.overlay.isEmpty ? "<p class=\"note\">No model was trained in this run.</p>"
                        : "<div class=\"figs\">" + figures.overlay.map { figure($0) }.joined() + "</div>")
        body += section("robustness", "Robustness: test accuracy per condition", robustness())
        for model in m.models { body += modelSection(model) }
        body += section("dataset", "Dataset", dataset())
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>facet report: \(escape(m.pipeline))</title><style>\(Self.css)</style></head>
        <body>\(body)<footer>Written by facet from this run's metrics.json; every figure is also a file in figures/.</footer></body></html>

        """
    }

    func section(_ id: String, _ title: String, _ content: String) -> String {
        "<section id=\"\(escape(id))\"><h2>\(escape(title))</h2>\(content)</section>"
    }

    func figure(_ f: (name: String, svg: String)) -> String {
        "<figure>\(f.svg)<figcaption>figures/\(escape(f.name))</figcaption></figure>"
    }

    static func pct(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
    static func num(_ x: Double) -> String { String(format: "%.2f", x) }

    func comparison() -> String {
        var t = "<table><thead><tr><th>model</th><th>architecture</th><th>fine-tuned</th><th>best epoch</th><th>test accuracy</th>"
            + "<th>macro precision</th><th>macro recall</th><th>macro F1</th><th>weighted F1</th></tr></thead><tbody>"
        let best = metrics.models.compactMap { $0.report?.accuracy }.max()
        for model in metrics.models {
            t += "<tr><td><a href=\"#model-\(escape(model.name))\">\(escape(model.name))</a></td><td>\(escape(model.architecture))</td>"
                + "<td>\(escape(model.finetune ?? "–"))</td>"
            if let r = model.report {
                let top = r.accuracy == best ? " class=\"best\"" : ""
                t += "<td>\(model.bestEpoch.map { "\($0) of \(model.epochs.count)" } ?? "–")</td><td\(top)>\(Self.pct(r.accuracy))</td>"
                    + [r.macro.precision, r.macro.recall, r.macro.f1, r.weighted.f1].map { "<td>\(Self.num($0))</td>" }.joined()
            } else {
                t += "<td colspan=\"6\" class=\"notrun\">not run: \(escape(model.reason ?? model.status))</td>"
            }
            t += "</tr>"
        }
        return t + "</tbody></table>"
    }

    var minSlice: Int { metrics.minSlice ?? 10 }

    func robustness() -> String {
        let evaluated = metrics.models.filter { $0.slices != nil && $0.report != nil }
        guard !evaluated.isEmpty else { return "<p class=\"note\">No model was evaluated.</p>" }
        var columns: [(String, String)] = []
        for c in Self.conditionOrder {
            let values = Set(evaluated.flatMap { ($0.slices?[c] ?? [:]).keys }).sorted()
            columns += values.map { (c, $0) }
        }
        guard !columns.isEmpty else { return "<p class=\"note\">The evaluate stage computed no condition slices.</p>" }
        var t = "<table><thead><tr><th rowspan=\"2\">model</th><th rowspan=\"2\">all</th>"
        for c in Self.conditionOrder where columns.contains(where: { $0.0 == c }) {
            t += "<th colspan=\"\(columns.filter { $0.0 == c }.count)\">\(escape(c))</th>"
        }
        t += "</tr><tr>" + columns.map { "<th>\(escape($0.1))</th>" }.joined() + "</tr></thead><tbody>"
        for model in evaluated {
            let all = model.report!.accuracy
            t += "<tr><td>\(escape(model.name))</td><td>\(Self.pct(all))</td>"
            for (c, v) in columns {
                if let s = model.slices?[c]?[v] {
                    let style = s.n < minSlice ? " class=\"few\"" : s.accuracy < all - 0.1 ? " class=\"low\"" : ""
                    t += "<td\(style)>\(Self.pct(s.accuracy)) <span class=\"n\">n=\(s.n)</span></td>"
                } else {
                    t += "<td>–</td>"
                }
            }
            t += "</tr>"
        }
        return t + "</tbody></table><p class=\"note\">Accuracy of the best checkpoint on the test photos with each condition; "
            + "a cell more than 10 points below the model's overall accuracy is marked; a cell of fewer than \(minSlice) photos is greyed "
            + "and never marked (too few to tell); <i>unknown</i>: photos whose condition could not be measured.</p>"
    }

    func modelSection(_ model: RunMetrics.Model) -> String {
        var s = "<p class=\"sub\">\(escape(model.architecture))" + (model.finetune.map { ", fine-tuned: \(escape($0))" } ?? "")
        guard let r = model.report else {
            s += "</p><p class=\"notrun\">Not run: \(escape(model.reason ?? model.status)).</p>"
            return section("model-" + model.name, model.name, s)
        }
        s += String(format: ", best epoch %d of %d, test accuracy %@</p>", model.bestEpoch ?? 0, model.epochs.count, Self.pct(r.accuracy))
        s += "<div class=\"figs\">" + figures.of(model.name).map { figure($0) }.joined()
        s += "<figure><pre>\(escape(r.text()))</pre><figcaption>classification report (test, scikit-learn's format)</figcaption></figure></div>"
        let misses = model.misclassified ?? []
        s += "<h3>Misclassified test photos (\(misses.count))</h3>"
        if misses.isEmpty { s += "<p class=\"note\">None.</p>" }
        // By (truth, predicted) cell, largest first: its count, then the photos sampled from it.
        for cell in RunMetrics.cells(misses) {
            let shown = cell.filter { thumbnails[$0.file] != nil }
            s += "<h4>\(escape(cell[0].truth)) → \(escape(cell[0].predicted)): \(cell.count) photo\(cell.count == 1 ? "" : "s")"
                + (shown.count < cell.count ? ", \(shown.count) shown" : "") + "</h4>"
            guard !shown.isEmpty else { continue }
            s += "<div class=\"thumbs\">"
            for miss in shown {
                s += "<figure class=\"thumb\"><img alt=\"\(escape(miss.source))\" src=\"data:image/jpeg;base64,\(Data(thumbnails[miss.file]!).base64EncodedString())\">"
                    + "<figcaption><b>\(escape(miss.truth))</b> → \(escape(miss.predicted))<br><span title=\"\(escape(miss.file))\">\(escape(miss.source))</span></figcaption></figure>"
            }
            s += "</div>"
        }
        let rest = misses.filter { thumbnails[$0.file] == nil }
        if !rest.isEmpty {
            s += "<details><summary>\(rest.count) more without a thumbnail</summary><table><thead><tr><th>photo</th><th>image</th><th>truth</th><th>predicted</th></tr></thead><tbody>"
                + rest.map { "<tr><td>\(escape($0.source))</td><td>\(escape($0.file))</td><td>\(escape($0.truth))</td><td>\(escape($0.predicted))</td></tr>" }.joined()
                + "</tbody></table></details>"
        }
        return section("model-" + model.name, model.name, s)
    }

    func dataset() -> String {
        let d = metrics.dataset, classes = metrics.classes
        var s = "<p>\(d.found) files in the dump: \(d.accepted) accepted, \(d.quarantined) quarantined, \(d.duplicates) duplicates"
        if !d.quarantineReasons.isEmpty {
            s += " (" + d.quarantineReasons.sorted { $0.key < $1.key }.map { "\(escape($0.key)): \($0.value)" }.joined(separator: ", ") + ")"
        }
        s += ". Leakage check: \(d.leaks) near-duplicate pairs across splits.</p>"
        let splits = ["train", "val", "test"].filter { d.photos[$0] != nil }
        let columns = Self.conditionOrder.flatMap { c in
            Set(d.conditions.values.flatMap { $0.values.flatMap { ($0[c] ?? [:]).keys } }).sorted().map { (c, $0) }
        }
        s += "<h3>Photos per split, class and condition</h3><div class=\"wide\"><table><thead><tr><th>split</th><th>class</th><th>photos</th>"
            + columns.map { "<th>\(escape($0.0)): \(escape($0.1))</th>" }.joined() + "</tr></thead><tbody>"
        for split in splits {
            for c in classes {
                let n = d.photos[split]?[c] ?? 0
                s += "<tr><td>\(split)</td><td>\(escape(c))</td><td>\(n)</td>"
                    + columns.map { "<td>\(d.conditions[split]?[c]?[$0.0]?[$0.1] ?? 0)</td>" }.joined() + "</tr>"
            }
            s += "<tr class=\"total\"><td>\(split)</td><td>all</td><td>\(d.photos[split]?.values.reduce(0, +) ?? 0)</td>"
                + columns.map { col in "<td>\(classes.reduce(0) { $0 + (d.conditions[split]?[$1]?[col.0]?[col.1] ?? 0) })</td>" }.joined() + "</tr>"
        }
        s += "</tbody></table></div><p class=\"note\">Images in the dataset after augmentation: "
            + splits.map { "\($0) \(d.images[$0] ?? 0)" }.joined(separator: ", ") + ".</p>"
        if let left = d.leftOut, !left.isEmpty {
            s += "<p class=\"warn\">Left out of the dataset (crop: face, no face to align): "
                + left.sorted { $0.key < $1.key }.map { "\($0.value) \(escape($0.key))" }.joined(separator: ", ")
                + " photos; listed in dataset/left_out.jsonl.</p>"
        }
        let issueNames = Set(d.issues.values.flatMap(\.keys)).sorted()
        s += "<h3>Quality issues per class</h3>"
        if issueNames.isEmpty { s += "<p class=\"note\">No photo reached a quality threshold.</p>" } else {
            s += "<table><thead><tr><th>class</th>" + issueNames.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
                + classes.map { c in "<tr><td>\(escape(c))</td>" + issueNames.map { "<td>\(d.issues[c]?[$0] ?? 0)</td>" }.joined() + "</tr>" }.joined()
                + "</tbody></table>"
        }
        s += "<h3>Conditions and labels</h3>"
        if d.associations.isEmpty { s += "<p class=\"note\">No condition tags.</p>" }
        for a in d.associations {
            s += "<p\(a.strong ? " class=\"warn\"" : "")><b>\(escape(a.condition)) × label</b>: Cramér's V \(String(format: "%.3f", a.cramersV))"
                + (a.strong ? " — strong: a model may learn the \(escape(a.condition)) instead of the expression" : "") + "</p>"
            if !a.findings.isEmpty { s += "<ul>" + a.findings.map { "<li>\(escape($0))</li>" }.joined() + "</ul>" }
            if let why = d.unknown?[a.condition], !why.isEmpty {
                s += "<p class=\"note\">Unknown \(escape(a.condition)) (not measured, left out of Cramér's V): "
                    + why.sorted { $0.key < $1.key }.map { "\($0.value) \(escape($0.key))" }.joined(separator: "; ") + ".</p>"
            }
            if let m = d.unknownAssociations?.first(where: { $0.condition == a.condition }), m.strong {
                s += "<p class=\"warn\"><b>\(escape(a.condition)) measured or not × label</b>: Cramér's V \(String(format: "%.3f", m.cramersV))"
                    + " — strong: one class's \(escape(a.condition)) is measured far less often than another's"
                    + (m.findings.first.map { " (\(escape($0)))" } ?? "") + ", so the figures above speak for the photos measured only</p>"
            }
        }
        return s
    }

    static let css = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;margin:0 auto;max-width:1180px;padding:0 24px 40px;background:#fafafa}
    header{padding:20px 0 4px}h1{font-size:24px;margin:0}h2{font-size:19px;margin:0 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}h4{font-size:13px;margin:10px 0 4px;color:#444}
    .sub{color:#555;margin:4px 0 10px}nav{position:sticky;top:0;background:#fafafa;padding:8px 0;border-bottom:1px solid #e5e5e5;z-index:1}
    nav a{margin-right:14px;color:#0060a0;text-decoration:none}section{background:#fff;border:1px solid #e5e5e5;border-radius:8px;padding:16px 18px;margin:16px 0}
    table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid #eee;padding:4px 10px;text-align:right;white-space:nowrap}
    th:first-child,td:first-child{text-align:left}thead th{background:#f3f3f3;font-weight:600}tr.total td{font-weight:600;border-bottom:2px solid #ddd}
    td.best{font-weight:700;color:#006a3a}td.low{background:#fde8dc;color:#8a2d00}td.notrun,.notrun{color:#8a2d00;text-align:left;white-space:normal}
    .n{color:#888;font-size:11px}td.few{color:#aaa;background:#f4f4f4}.wide{overflow-x:auto}.note{color:#666;font-size:13px}.warn{color:#8a2d00}
    .figs{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}figure{margin:0}figcaption{color:#777;font-size:11px;margin-top:2px}
    svg{max-width:100%;height:auto;border:1px solid #eee;border-radius:4px}pre{font:12px/1.35 ui-monospace,Menlo,monospace;background:#f6f6f6;padding:10px;border-radius:4px;margin:0}
    .thumbs{display:flex;flex-wrap:wrap;gap:10px}.thumb{width:112px}.thumb img{width:112px;height:112px;object-fit:cover;border-radius:4px;display:block}
    .thumb figcaption{font-size:11px;overflow-wrap:anywhere;color:#444}footer{color:#888;font-size:12px;margin-top:24px}
    """
}
