import Foundation
import Testing

@testable import QilaWeb

@Suite("Charts read well: text at display size, legends, values on hover and as a table")
struct ChartTests {
    @Test("a stacked bar chart is drawn at its own size with 12 px text, a legend, and every value in its table")
    func bars() {
        let html = BarChart(
            bars: [.init(label: "09:00", values: ["stored": 120, "lost": 3]), .init(label: "10:00", values: ["stored": 80])], series: ["stored", "lost"],
            title: "Flows <per> hour"
        ).svg()
        #expect(html.contains(#"<figcaption>Flows &lt;per&gt; hour</figcaption>"#))
        #expect(html.contains(#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 480 200""#), "scales with its card, never below 480 px")
        #expect(Chart.textSize >= 12)
        #expect(html.contains(#"<ul class="legend">"#) && html.contains(">stored</li>") && html.contains(">lost</li>"))
        #expect(html.contains("<title>09:00: 120 stored</title>") && html.contains("<title>09:00: 3 lost</title>"))
        #expect(html.contains(#"<tr><th scope="row">09:00</th><td class="number">120</td><td class="number">3</td></tr>"#))
        #expect(html.contains(#"<tr><th scope="row">10:00</th><td class="number">80</td><td class="number">0</td></tr>"#))
        // The value axis ends on a round number above the tallest stack (123 → 200).
        #expect(html.contains(">200</text>") && html.contains(">100</text>"))
        #expect(!html.contains("style="), "no inline style: the content security policy forbids it")
    }

    @Test("a time series draws a line per series with a dot per value; a missing value is shown as a dash, not zero")
    func timeSeries() {
        let html = TimeSeriesChart(
            points: [.init(label: "2026-Q1", values: ["telecom": 1.5, "banking": 2]), .init(label: "2026-Q2", values: ["telecom": 2.25]),
                     .init(label: "2026-Q3", values: ["telecom": 3, "banking": 2.5])],
            series: ["telecom", "banking"], title: "Maturity by quarter", unit: "score"
        ).svg()
        #expect(html.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(html.components(separatedBy: "<circle").count - 1 == 5)
        #expect(html.contains("<title>2026-Q2: 2.2 telecom</title>") || html.contains("<title>2026-Q2: 2.3 telecom</title>"))
        #expect(html.contains(#"<tr><th scope="row">2026-Q2</th><td class="number">2.2</td><td class="number">—</td></tr>"#) || html.contains(#"<td class="number">2.3</td><td class="number">—</td>"#))
    }

    @Test("a heatmap shades cells in five steps, writes each value, and hatches a cell with no figure")
    func heatmap() {
        let html = HeatmapChart(
            rows: ["Telecom", "Banking"], columns: ["Govern", "Identify", "Protect"], values: [[4, 2, nil], [0, 1, 3]], title: "Coverage by function",
            maximum: 4
        ).svg()
        #expect(html.contains(#"class="cell heat-4""#) && html.contains(#"class="cell heat-0""#) && html.contains(#"class="cell heat-none""#))
        #expect(html.contains("<title>Telecom, Protect: no figure</title>"))
        #expect(html.contains(#"<tr><th scope="row">Telecom</th><td class="number">4</td><td class="number">2</td><td class="number">—</td></tr>"#))
    }

    @Test("the value axis ends on an even round number, so its midline is a whole number")
    func axis() {
        for (largest, top) in [(0, 2), (1, 2), (2, 2), (3, 4), (5, 6), (7, 10), (11, 20), (123, 200), (480, 500), (1_001, 2_000)] {
            #expect(Chart.niceMaximum(largest) == top, "\(largest)")
            #expect(Chart.niceMaximum(largest) % 2 == 0 && Chart.niceMaximum(largest) >= largest)
        }
    }
}
