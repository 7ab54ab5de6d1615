/// Server-drawn charts: SVG with no script, so they obey the content security policy and work in
/// every browser. Each is a figure: its title, the drawing (text 12 px as displayed: the drawing
/// never shrinks below its own width and scrolls inside its card on a narrow screen), a legend in
/// the page's own text, every value on hover, and the same figures as a table for screen readers
/// and for anyone who would rather read them.
enum Chart {
    /// Text size in the drawing's units, which are pixels as displayed.
    static let textSize = 12

    /// The figure around a drawing: caption, legend, the drawing, and its table.
    static func figure(title: String, svg: String, series: [String], columns: [String], rows: [(label: String, values: [String])]) -> String {
        var html = "<figure class=\"chart-figure\"><figcaption>\(escape(title))</figcaption>"
        if series.count > 1 {
            html += "<ul class=\"legend\">"
            for (offset, name) in series.enumerated() {
                html += "<li><span class=\"swatch series-\(offset % 8) bar-\(slug(name))\" aria-hidden=\"true\"></span>\(escape(name))</li>"
            }
            html += "</ul>"
        }
        html += "<div class=\"chart-scroll\">\(svg)</div>"
        html += "<details class=\"chart-table\"><summary>The figures as a table</summary><div class=\"scroll\"><table><thead><tr>"
        html += columns.map { "<th scope=\"col\">\(escape($0))</th>" }.joined()
        html += "</tr></thead><tbody>"
        for row in rows {
            html += "<tr><th scope=\"row\">\(escape(row.label))</th>" + row.values.map { "<td class=\"number\">\(escape($0))</td>" }.joined() + "</tr>"
        }
        if rows.isEmpty { html += "<tr><td colspan=\"\(columns.count)\">No figures yet.</td></tr>" }
        html += "</tbody></table></div></details></figure>"
        return html
    }

    /// Widest drawing that scales with its card: the stylesheet never shows it narrower than
    /// this (so 12-unit text is at least 12 px) nor more than one and a half times wider.
    static let scalableWidth = 480

    /// An SVG element. A drawing no wider than `scalableWidth` follows its card's width within
    /// those bounds; a wider one (a heatmap with many columns) keeps its own size and scrolls.
    static func open(width: Int, height: Int, title: String, fixed: Bool = false) -> String {
        let size = width <= scalableWidth && !fixed ? "class=\"chart\"" : "class=\"chart fixed\" width=\"\(width)\" height=\"\(height)\""
        return "<svg \(size) xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(title))\">"
    }

    /// A CSS class name for a series: letters and digits, other characters as `-`.
    static func slug(_ name: String) -> String {
        String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    static func f(_ value: Double) -> String { String(Double(Int(value * 10)) / 10) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A round number at or above `value`, for the top of an axis.
    /// Always even, so the midline's label is a whole number too.
    static func niceMaximum(_ value: Int) -> Int {
        guard value > 5 else { return value <= 2 ? 2 : value <= 4 ? 4 : 6 }
        var step = 1
        while step * 10 < value { step *= 10 }
        for multiple in [1, 2, 5, 10] where step * multiple >= value { return step * multiple }
        return step * 10
    }
}

/// Bars, stacked by series (for example success, denied, failure) when there is more than one.
struct BarChart: Sendable {
    struct Bar: Sendable {
        var label: String
        /// Values by series name, stacked bottom-up in the order of `series`.
        var values: [String: Int]
    }

    var bars: [Bar]
    var series: [String]
    var title: String
    var width = Chart.scalableWidth
    var height = 200

    func svg() -> String {
        let size = Chart.textSize
        let left = 44, bottom = 22, top = 10, right = 6
        let plotHeight = height - bottom - top
        let maximum = Chart.niceMaximum(bars.map { $0.values.values.reduce(0, +) }.max() ?? 0)
        let slot = bars.isEmpty ? 0 : Double(width - left - right) / Double(bars.count)
        var shapes = ""
        // The value axis: 0, half, and the top, with faint lines across.
        for fraction in [0.0, 0.5, 1.0] {
            let y = Double(top) + Double(plotHeight) * (1 - fraction)
            let value = Int((Double(maximum) * fraction).rounded())
            shapes += "<line class=\"grid\" x1=\"\(left)\" y1=\"\(Chart.f(y))\" x2=\"\(width - right)\" y2=\"\(Chart.f(y))\"/>"
            shapes += "<text class=\"axis\" x=\"\(left - 6)\" y=\"\(Chart.f(y + Double(size) / 3))\" text-anchor=\"end\">\(value)</text>"
        }
        // Labels under the bars, as many as fit at this text size.
        let labelWidth = Double(max(1, bars.map(\.label.count).max() ?? 1)) * Double(size) * 0.62 + 8
        let labelEvery = max(1, Int((labelWidth / max(slot, 1)).rounded(.up)))
        for (index, bar) in bars.enumerated() {
            let x = Double(left) + Double(index) * slot + slot * 0.12
            var base = Double(top + plotHeight)
            for (number, name) in series.enumerated() {
                let value = bar.values[name] ?? 0
                guard value > 0 else { continue }
                let h = Double(plotHeight) * Double(value) / Double(maximum)
                base -= h
                shapes +=
                    "<rect class=\"bar series-\(number % 8) bar-\(Chart.slug(name))\" x=\"\(Chart.f(x))\" y=\"\(Chart.f(base))\" width=\"\(Chart.f(slot * 0.76))\" height=\"\(Chart.f(h))\"><title>\(Chart.escape(bar.label)): \(value) \(Chart.escape(name))</title></rect>"
            }
            if index % labelEvery == 0 {
                shapes += "<text class=\"axis\" x=\"\(Chart.f(x + slot * 0.38))\" y=\"\(height - 6)\" text-anchor=\"middle\">\(Chart.escape(bar.label))</text>"
            }
        }
        let drawing = Chart.open(width: width, height: height, title: title) + shapes + "</svg>"
        return Chart.figure(
            title: title, svg: drawing, series: series, columns: [""] + series,
            rows: bars.map { bar in (bar.label, series.map { String(bar.values[$0] ?? 0) }) })
    }

    /// A CSS class name for a series (kept for callers that colour by series name).
    static func slug(_ name: String) -> String { Chart.slug(name) }
}

/// Values over time, one line per series, on a time axis: for trends such as maturity scores by
/// quarter or incidents per week.
struct TimeSeriesChart: Sendable {
    struct Point: Sendable {
        /// The moment's label on the time axis (`2026-11`, `W47`, `14:00`).
        var label: String
        var values: [String: Double]
    }

    var points: [Point]
    var series: [String]
    var title: String
    /// What the values are, for the axis and the table (`incidents`, `score`).
    var unit = ""
    var width = Chart.scalableWidth
    var height = 200

    func svg() -> String {
        let size = Chart.textSize
        let left = 44, bottom = 22, top = 10, right = 10
        let plotHeight = Double(height - bottom - top)
        let largest = points.flatMap { $0.values.values }.max() ?? 0
        let maximum = Double(Chart.niceMaximum(Int(largest.rounded(.up))))
        let step = points.count > 1 ? Double(width - left - right) / Double(points.count - 1) : 0
        func x(_ index: Int) -> Double { Double(left) + Double(index) * step + (points.count == 1 ? Double(width - left - right) / 2 : 0) }
        func y(_ value: Double) -> Double { Double(top) + plotHeight * (1 - value / maximum) }
        var shapes = ""
        for fraction in [0.0, 0.5, 1.0] {
            let level = Double(top) + plotHeight * (1 - fraction)
            shapes += "<line class=\"grid\" x1=\"\(left)\" y1=\"\(Chart.f(level))\" x2=\"\(width - right)\" y2=\"\(Chart.f(level))\"/>"
            shapes += "<text class=\"axis\" x=\"\(left - 6)\" y=\"\(Chart.f(level + Double(size) / 3))\" text-anchor=\"end\">\(Self.number(maximum * fraction))</text>"
        }
        let labelWidth = Double(max(1, points.map(\.label.count).max() ?? 1)) * Double(size) * 0.62 + 8
        let labelEvery = max(1, Int((labelWidth / max(step, 1)).rounded(.up)))
        for (index, point) in points.enumerated() where index % labelEvery == 0 || index == points.count - 1 {
            shapes += "<text class=\"axis\" x=\"\(Chart.f(x(index)))\" y=\"\(height - 6)\" text-anchor=\"middle\">\(Chart.escape(point.label))</text>"
        }
        for (number, name) in series.enumerated() {
            let present = points.enumerated().compactMap { index, point in point.values[name].map { (index, $0) } }
            let path = present.map { "\(Chart.f(x($0.0))),\(Chart.f(y($0.1)))" }.joined(separator: " ")
            if present.count > 1 { shapes += "<polyline class=\"line series-\(number % 8)\" points=\"\(path)\"/>" }
            for (index, value) in present {
                shapes +=
                    "<circle class=\"dot series-\(number % 8)\" cx=\"\(Chart.f(x(index)))\" cy=\"\(Chart.f(y(value)))\" r=\"3.5\"><title>\(Chart.escape(points[index].label)): \(Self.number(value)) \(Chart.escape(name))</title></circle>"
            }
        }
        let drawing = Chart.open(width: width, height: height, title: title) + shapes + "</svg>"
        return Chart.figure(
            title: title, svg: drawing, series: series, columns: [unit.isEmpty ? "" : "When"] + series,
            rows: points.map { point in (point.label, series.map { point.values[$0].map(Self.number) ?? "—" }) })
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(format: "%.1f", value)
    }
}

/// A grid of cells shaded by value: rows against columns, such as sectors against the functions
/// of a framework, or organisations against weeks.
struct HeatmapChart: Sendable {
    var rows: [String]
    var columns: [String]
    /// `values[row][column]`; nil is no figure (drawn hatched, never as zero).
    var values: [[Double?]]
    var title: String
    /// The value that is darkest; the largest value when nil.
    var maximum: Double?

    func svg() -> String {
        let size = Chart.textSize
        let labelWidth = Int(Double(max(4, rows.map(\.count).max() ?? 4)) * Double(size) * 0.62) + 12
        // Cells as wide as the longest column name, so sector names are read whole.
        let cell = max(44, Int(Double(columns.map(\.count).max() ?? 0) * Double(size) * 0.62) + 10), header = 28
        let width = labelWidth + cell * max(columns.count, 1) + 4
        let cellHeight = 22
        let height = header + cellHeight * max(rows.count, 1) + 4
        let top = values.flatMap { $0.compactMap { $0 } }.max() ?? 0
        let scale = maximum ?? (top > 0 ? top : 1)
        var shapes = ""
        for (index, column) in columns.enumerated() {
            shapes += "<text class=\"axis\" x=\"\(labelWidth + index * cell + cell / 2)\" y=\"\(header - 10)\" text-anchor=\"middle\">\(Chart.escape(column))</text>"
        }
        for (r, row) in rows.enumerated() {
            let y = header + r * cellHeight
            shapes += "<text class=\"axis\" x=\"\(labelWidth - 8)\" y=\"\(y + cellHeight / 2 + size / 3)\" text-anchor=\"end\">\(Chart.escape(row))</text>"
            for (c, column) in columns.enumerated() {
                let value = r < values.count && c < values[r].count ? values[r][c] : nil
                let x = labelWidth + c * cell
                if let value {
                    // Five steps of shade, so the legend can name them.
                    let step = min(4, max(0, Int((value / scale * 5).rounded(.down))))
                    shapes +=
                        "<rect class=\"cell heat-\(step)\" x=\"\(x + 1)\" y=\"\(y + 1)\" width=\"\(cell - 2)\" height=\"\(cellHeight - 2)\"><title>\(Chart.escape(row)), \(Chart.escape(column)): \(TimeSeriesChart.number(value))</title></rect>"
                    shapes += "<text class=\"cell-value heat-text-\(step)\" x=\"\(x + cell / 2)\" y=\"\(y + cellHeight / 2 + size / 3)\" text-anchor=\"middle\">\(TimeSeriesChart.number(value))</text>"
                } else {
                    shapes += "<rect class=\"cell heat-none\" x=\"\(x + 1)\" y=\"\(y + 1)\" width=\"\(cell - 2)\" height=\"\(cellHeight - 2)\"><title>\(Chart.escape(row)), \(Chart.escape(column)): no figure</title></rect>"
                }
            }
        }
        // Drawn at its own size, never scaled to the card: a narrow grid scaled up has huge text.
        let drawing = Chart.open(width: width, height: height, title: title, fixed: true) + shapes + "</svg>"
        return Chart.figure(
            title: title, svg: drawing, series: [], columns: [""] + columns,
            rows: rows.enumerated().map { r, row in
                (row, columns.indices.map { c in (r < values.count && c < values[r].count ? values[r][c] : nil).map(TimeSeriesChart.number) ?? "—" })
            })
    }
}
