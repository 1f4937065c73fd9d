/// JSON Lines (https://jsonlines.org) input of schema v1 events.
public enum JSONLines {
    /// Parses every non-blank line of `bytes` (LF or CRLF line ends) into events.
    ///
    /// - Throws: ``EventDecodingError`` for the first bad line, with its 1-based line number and
    ///   the field at fault. Nothing is returned then, so a caller appends all lines or none.
    public static func parse(_ bytes: [UInt8]) throws(EventDecodingError) -> [ProxyRequestEvent] {
        var events: [ProxyRequestEvent] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            var last = end
            if last > start, bytes[last - 1] == 0x0D { last -= 1 }
            let line = bytes[start..<last]
            if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
                do {
                    events.append(try ProxyRequestEvent(jsonLine: Array(line)))
                } catch {
                    var located = error
                    located.line = lineNumber
                    throw located
                }
            }
            start = end + 1
        }
        return events
    }
}
