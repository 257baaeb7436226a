import Foundation

/// Escapes text for HTML and SVG content and attribute values.
func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(c)
        }
    }
    return out
}

/// A number as SVG coordinates write it: two decimals at most, no trailing zeros.
func coord(_ x: Double) -> String {
    let s = String(format: "%.2f", x)
    var t = Substring(s)
    while t.hasSuffix("0") { t = t.dropLast() }
    if t.hasSuffix(".") { t = t.dropLast() }
    return t == "-0" ? "0" : String(t)
}

/// Colours of the models, in manifest order (colour-blind-safe Okabe–Ito).
let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

/// A line chart with axes, ticks, grid lines and a legend, as a standalone SVG.
struct LineChart {
    struct Series {
        var name: String
        var color: String
        var dashed: Bool
        var points: [(x: Double, y: Double)]
    }
    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Fixed y range (accuracy: 0…1); nil fits the data.
    var yRange: ClosedRange<Double>?
    /// An x to mark with a labelled vertical line (the best epoch).
    var marker: (x: Double, label: String)? = nil
    var width = 460.0, height = 300.0

    func svg() -> String {
        let left = 52.0, right = 12.0, top = 30.0, legendRows = Double((series.count + 1) / 2)
        let bottom = 44.0 + 16 * legendRows
        let plotW = width - left - right, plotH = height - top - bottom
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xMin = xs.min() ?? 0, xMax = max(xs.max() ?? 1, xMin + 1)
        var yLo = yRange?.lowerBound ?? (ys.min() ?? 0), yHi = yRange?.upperBound ?? (ys.max() ?? 1)
        if yRange == nil { (yLo, yHi) = (min(0, yLo), yHi == yLo ? yLo + 1 : yHi * 1.05) }
        let yTicks = Self.ticks(yLo, yHi, count: 5)
        if yRange == nil, let last = yTicks.last, last > yHi { yHi = last }
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - yLo) / (yHi - yLo)) * plotH }
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(coord(width)) \#(coord(height))" width="\#(coord(width))" height="\#(coord(height))" font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="\#(escape(title))">"#
        s += #"<rect width="100%" height="100%" fill="white"/>"#
        s += #"<text x="\#(coord(left))" y="18" font-size="13" font-weight="600">\#(escape(title))</text>"#
        for t in yTicks where t >= yLo - 1e-9 && t <= yHi + 1e-9 {
            s += #"<line x1="\#(coord(left))" x2="\#(coord(left + plotW))" y1="\#(coord(py(t)))" y2="\#(coord(py(t)))" stroke="rgb(228,228,228)"/>"#
            s += #"<text x="\#(coord(left - 6))" y="\#(coord(py(t) + 4))" text-anchor="end" fill="rgb(85,85,85)">\#(Self.label(t))</text>"#
        }
        for t in Self.ticks(xMin, xMax, count: 8, integers: true) where t >= xMin && t <= xMax {
            s += #"<line x1="\#(coord(px(t)))" x2="\#(coord(px(t)))" y1="\#(coord(top + plotH))" y2="\#(coord(top + plotH + 4))" stroke="rgb(85,85,85)"/>"#
            s += #"<text x="\#(coord(px(t)))" y="\#(coord(top + plotH + 16))" text-anchor="middle" fill="rgb(85,85,85)">\#(Self.label(t))</text>"#
        }
        s += #"<rect x="\#(coord(left))" y="\#(coord(top))" width="\#(coord(plotW))" height="\#(coord(plotH))" fill="none" stroke="rgb(153,153,153)"/>"#
        s += #"<text x="\#(coord(left + plotW / 2))" y="\#(coord(top + plotH + 32))" text-anchor="middle" fill="rgb(51,51,51)">\#(escape(xLabel))</text>"#
        s += #"<text transform="translate(14 \#(coord(top + plotH / 2))) rotate(-90)" text-anchor="middle" fill="rgb(51,51,51)">\#(escape(yLabel))</text>"#
        if let marker, marker.x >= xMin, marker.x <= xMax {
            s += #"<line x1="\#(coord(px(marker.x)))" x2="\#(coord(px(marker.x)))" y1="\#(coord(top))" y2="\#(coord(top + plotH))" stroke="rgb(120,120,120)" stroke-dasharray="2 3"/>"#
            // Accuracy curves run high and loss curves low: the label goes where they are not.
            let labelY = yRange != nil ? top + plotH - 6 : top + 12
            s += #"<text x="\#(coord(px(marker.x) + 4))" y="\#(coord(labelY))" fill="rgb(85,85,85)">\#(escape(marker.label))</text>"#
        }
        for line in series where !line.points.isEmpty {
            let d = line.points.enumerated().map { (i, p) in (i == 0 ? "M" : "L") + coord(px(p.x)) + " " + coord(py(p.y)) }.joined(separator: " ")
            let dash = line.dashed ? #" stroke-dasharray="6 4""# : ""
            s += #"<path d="\#(d)" fill="none" stroke="\#(line.color)" stroke-width="2"\#(dash)/>"#
            for p in line.points {
                s += #"<circle cx="\#(coord(px(p.x)))" cy="\#(coord(py(p.y)))" r="2.5" fill="\#(line.color)"/>"#
            }
        }
        for (i, line) in series.enumerated() {
            let x = left + Double(i % 2) * plotW / 2, y = top + plotH + 44 + 16 * Double(i / 2)
            let dash = line.dashed ? #" stroke-dasharray="6 4""# : ""
            s += #"<line x1="\#(coord(x))" x2="\#(coord(x + 24))" y1="\#(coord(y - 4))" y2="\#(coord(y - 4))" stroke="\#(line.color)" stroke-width="2"\#(dash)/>"#
            s += #"<text x="\#(coord(x + 30))" y="\#(coord(y))" fill="rgb(51,51,51)">\#(escape(line.name))</text>"#
        }
        return s + "</svg>"
    }

    /// Round tick values covering lo…hi.
    static func ticks(_ lo: Double, _ hi: Double, count: Int, integers: Bool = false) -> [Double] {
        let span = max(hi - lo, 1e-12)
        let raw = span / Double(max(count - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        if integers { step = max(1, step.rounded(.up)) }
        let first = (lo / step).rounded(.down) * step
        var out: [Double] = []
        var t = first
        while t <= hi + step * 0.5 && out.count < 50 { out.append(t); t += step }
        return out
    }

    static func label(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : coord(x)
    }
}

/// A confusion matrix as a heat map: rows the truth, columns the prediction, each cell shaded
/// by its share of the row and showing the count.
struct ConfusionChart {
    var title: String
    var classes: [String]
    var counts: [[Int]]

    func svg() -> String {
        let k = classes.count
        let cell = max(36.0, min(64.0, 300.0 / Double(max(k, 1))))
        let labelW = Double(max(classes.map(\.count).max() ?? 4, 5)) * 7 + 20
        let left = labelW + 18, top = 52.0
        let width = max(left + cell * Double(k) + 16, Double(title.count) * 7.5 + 12), height = top + cell * Double(k) + 16
        var s = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(coord(width)) \#(coord(height))" width="\#(coord(width))" height="\#(coord(height))" font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="\#(escape(title))">"#
        s += #"<rect width="100%" height="100%" fill="white"/>"#
        s += #"<text x="4" y="16" font-size="13" font-weight="600">\#(escape(title))</text>"#
        s += #"<text x="\#(coord(left + cell * Double(k) / 2))" y="32" text-anchor="middle" fill="rgb(51,51,51)">predicted</text>"#
        s += #"<text transform="translate(12 \#(coord(top + cell * Double(k) / 2))) rotate(-90)" text-anchor="middle" fill="rgb(51,51,51)">true</text>"#
        for (j, name) in classes.enumerated() {
            s += #"<text x="\#(coord(left + cell * (Double(j) + 0.5)))" y="\#(coord(top - 6))" text-anchor="middle" fill="rgb(51,51,51)">\#(escape(name))</text>"#
        }
        for (i, name) in classes.enumerated() {
            let row = counts.indices.contains(i) ? counts[i] : []
            let total = row.reduce(0, +)
            s += #"<text x="\#(coord(left - 6))" y="\#(coord(top + cell * (Double(i) + 0.5) + 4))" text-anchor="end" fill="rgb(51,51,51)">\#(escape(name))</text>"#
            for j in 0..<k {
                let n = row.indices.contains(j) ? row[j] : 0
                let share = total > 0 ? Double(n) / Double(total) : 0
                // Diagonal cells blue, errors orange; the deeper the larger the share of the row.
                let (r, g, b) = i == j ? (0.0, 114.0, 178.0) : (213.0, 94.0, 0.0)
                let mix = { (c: Double) in Int((255 - (255 - c) * share).rounded()) }
                let fill = String(format: "#%02x%02x%02x", mix(r), mix(g), mix(b))
                let x = left + cell * Double(j), y = top + cell * Double(i)
                s += #"<rect x="\#(coord(x))" y="\#(coord(y))" width="\#(coord(cell))" height="\#(coord(cell))" fill="\#(fill)" stroke="white"/>"#
                let ink = share > 0.55 ? "#fff" : "#222"
                s += #"<text x="\#(coord(x + cell / 2))" y="\#(coord(y + cell / 2 + 4))" text-anchor="middle" fill="\#(ink)" font-size="13">\#(n)</text>"#
            }
        }
        return s + "</svg>"
    }
}
