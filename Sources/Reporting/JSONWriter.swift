import Foundation
import Ledger

/// A JSON value with ordered keys, written with two-space indentation (deterministic output).
indirect enum JSONNode {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case null
    case array([JSONNode])
    case object([(String, JSONNode)])

    /// A string, or null.
    static func optional(_ value: String?) -> JSONNode { value.map(JSONNode.string) ?? .null }

    /// The document text, ending with a newline.
    func rendered() -> String {
        var out = ""
        write(to: &out, indent: 0)
        out.append("\n")
        return out
    }

    private func write(to out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch self {
        case .string(let text): JSONNode.quote(text, into: &out)
        case .integer(let value): out.append(String(value))
        case .bool(let value): out.append(value ? "true" : "false")
        case .null: out.append("null")
        case .array(let items):
            guard !items.isEmpty else { return out.append("[]") }
            out.append("[\n")
            for (index, item) in items.enumerated() {
                out.append(pad)
                item.write(to: &out, indent: indent + 1)
                out.append(index + 1 < items.count ? ",\n" : "\n")
            }
            out.append(close + "]")
        case .object(let members):
            guard !members.isEmpty else { return out.append("{}") }
            out.append("{\n")
            for (index, member) in members.enumerated() {
                out.append(pad)
                JSONNode.quote(member.0, into: &out)
                out.append(": ")
                member.1.write(to: &out, indent: indent + 1)
                out.append(index + 1 < members.count ? ",\n" : "\n")
            }
            out.append(close + "}")
        }
    }

    /// RFC 8259 string escaping, as the ledger writes it.
    private static func quote(_ text: String, into out: inout String) {
        out.append(JSONText.quoted(text))
    }
}
