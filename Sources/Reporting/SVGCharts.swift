import Foundation

/// Inline SVG charts for the HTML report: plain shapes, no scripts, no external resources.
///
/// Bar heights use integer arithmetic on the exact figures (bytes, cents); nothing here feeds
/// back into any amount.
enum SVGCharts {
    /// One bar of a chart.
    struct Bar {
        var label: String
        /// The bar's value scaled to an integer (bytes, or cents).
        var value: Int64
        /// The text of the bar's tooltip (`<title>`).
        var title: String
        var muted: Bool
    }

    /// A vertical bar chart with one `<rect class="bar …" data-date="…">` per bar.
    static func bars(_ bars: [Bar], id: String, caption: String, axisLabel: String) -> String {
        let width = 760
        let height = 220
        let top = 20
        let bottom = 40
        let left = 10
        let plot = height - top - bottom
        let maximum = max(bars.map(\.value).max() ?? 0, 1)
        let slot = bars.isEmpty ? 0 : (width - 2 * left) * 100 / bars.count  // hundredths of a px
        var svg = """
            <svg id="\(id)" class="chart" role="img" aria-labelledby="\(id)-title" viewBox="0 0 \(width) \(height)" \
            width="100%" xmlns="http://www.w3.org/2000/svg">
            <title id="\(id)-title">\(HTMLText.escape(caption))</title>
            <line x1="\(left)" y1="\(top + plot)" x2="\(width - left)" y2="\(top + plot)" class="axis"/>
            <text x="\(left)" y="12" class="axis-label">max \(HTMLText.escape(axisLabel))</text>

            """
        for (index, bar) in bars.enumerated() {
            let barHeight = Int(bar.value * Int64(plot) / maximum)
            let x = left * 100 + index * slot + slot / 10
            let barWidth = slot * 8 / 10
            svg += """
                <rect class="bar\(bar.muted ? " future" : "")" data-date="\(HTMLText.escape(bar.label))" \
                x="\(hundredths(x))" y="\(top + plot - barHeight)" width="\(hundredths(barWidth))" height="\(barHeight)">\
                <title>\(HTMLText.escape(bar.title))</title></rect>

                """
            if bars.count <= 31 {
                let day = bar.label.split(separator: "-").last.map(String.init) ?? bar.label
                svg += """
                    <text class="tick" x="\(hundredths(x + barWidth / 2))" y="\(top + plot + 14)" text-anchor="middle">\
                    \(HTMLText.escape(day))</text>

                    """
            }
        }
        return svg + "</svg>"
    }

    /// A horizontal share chart: one `<rect class="share">` per part, widths proportional to value.
    static func shares(_ parts: [(name: String, value: Int64)], id: String, caption: String) -> String {
        let width = 760
        let rowHeight = 26
        let total = max(parts.reduce(Int64(0)) { $0 + $1.value }, 1)
        let height = max(parts.count, 1) * rowHeight + 10
        var svg = """
            <svg id="\(id)" class="chart" role="img" aria-labelledby="\(id)-title" viewBox="0 0 \(width) \(height)" \
            width="100%" xmlns="http://www.w3.org/2000/svg">
            <title id="\(id)-title">\(HTMLText.escape(caption))</title>

            """
        for (index, part) in parts.enumerated() {
            let y = index * rowHeight + 5
            let barWidth = Int(part.value * 440 / total)
            let percent = DecimalText.fixed(Decimal(part.value) * 100 / Decimal(total), places: 1)
            svg += """
                <text class="share-label" x="0" y="\(y + 16)">\(HTMLText.escape(part.name))</text>\
                <rect class="share" x="220" y="\(y + 2)" width="\(barWidth)" height="18"><title>\
                \(HTMLText.escape(part.name)): \(percent) %</title></rect>\
                <text class="share-label" x="\(226 + barWidth)" y="\(y + 16)">\(percent) %</text>

                """
        }
        return svg + "</svg>"
    }

    private static func hundredths(_ value: Int) -> String {
        "\(value / 100).\(String(format: "%02d", value % 100))"
    }
}

/// HTML escaping for text and attribute values.
enum HTMLText {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
