/// Server-drawn SVG bar charts: no script, so they obey the content security policy and work
/// in every browser. Bars may be stacked by series (for example success, denied, failure).
struct BarChart: Sendable {
    struct Bar: Sendable {
        var label: String
        /// Values by series name, stacked bottom-up in the order of `series`.
        var values: [String: Int]
    }

    var bars: [Bar]
    var series: [String]
    var title: String
    var width = 560
    var height = 180

    func svg() -> String {
        let left = 32, bottom = 22, top = 8
        let plotHeight = height - bottom - top
        let maximum = max(1, bars.map { $0.values.values.reduce(0, +) }.max() ?? 1)
        // With a legend, the bars keep clear of it.
        let right = series.count > 1 ? 100 : 4
        let slot = bars.isEmpty ? 0 : Double(width - left - right) / Double(bars.count)
        var shapes = ""
        shapes += "<text x=\"0\" y=\"\(top + 8)\">\(maximum)</text><text x=\"0\" y=\"\(top + plotHeight)\">0</text>"
        shapes += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width)\" y2=\"\(top + plotHeight)\" stroke=\"#d8dee6\"/>"
        let labelEvery = max(1, bars.count / 8)
        for (index, bar) in bars.enumerated() {
            let x = Double(left) + Double(index) * slot + slot * 0.1
            var base = Double(top + plotHeight)
            for (number, name) in series.enumerated() {
                let value = bar.values[name] ?? 0
                guard value > 0 else { continue }
                let h = Double(plotHeight) * Double(value) / Double(maximum)
                base -= h
                shapes += "<rect class=\"bar series-\(number % 8) bar-\(Self.slug(name))\" x=\"\(Self.f(x))\" y=\"\(Self.f(base))\" width=\"\(Self.f(slot * 0.8))\" height=\"\(Self.f(h))\"><title>\(Self.escape(bar.label)): \(value) \(Self.escape(name))</title></rect>"
            }
            if index % labelEvery == 0 {
                shapes += "<text x=\"\(Self.f(x))\" y=\"\(height - 6)\">\(Self.escape(bar.label))</text>"
            }
        }
        var legend = ""
        if series.count > 1 {
            for (offset, name) in series.enumerated() {
                legend += "<rect class=\"series-\(offset % 8) bar-\(Self.slug(name))\" x=\"\(width - 90)\" y=\"\(top + offset * 14)\" width=\"8\" height=\"8\"/><text x=\"\(width - 78)\" y=\"\(top + 8 + offset * 14)\">\(Self.escape(name))</text>"
            }
        }
        return "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(Self.escape(title))\">\(shapes)\(legend)</svg>"
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
}
