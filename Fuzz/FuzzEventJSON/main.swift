// Fuzzes the JSON Lines event decoder: `ProxyRequestEvent(jsonLine:)` and `JSONLines.parse`.
// Every event that decodes must survive a round trip: `jsonLine()` and decoding that gives an
// equal event; a mismatch is a bug and stops the fuzzer with both texts. The fast path
// (`EventLineParser`) must give the general parser's event for every line it reads.
import FuzzSupport
import Ledger

@_cdecl("FuzzEventJSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}

/// Checks that `event` reads back equal from its own JSON line.
private func checkRoundTrip(_ event: ProxyRequestEvent, input: [UInt8]) {
    let line = event.jsonLine()
    let text = String(decoding: line, as: UTF8.self)
    let source = String(decoding: input.prefix(2000), as: UTF8.self)
    do {
        let again = try ProxyRequestEvent(jsonLine: line)
        guard again == event else {
            fatalError("FuzzEventJSON: round trip changed the event\n  input:  \(source)\n  output: \(text)\n"
                + "  first:  \(event)\n  second: \(again)")
        }
    } catch {
        fatalError("FuzzEventJSON: jsonLine() wrote a line that does not decode (\(error))\n  input:  \(source)\n"
            + "  output: \(text)")
    }
}

/// Checks that the fast path reads `bytes` as the general parser does, or leaves it to it.
private func checkFastPath(_ bytes: [UInt8]) {
    var parser = EventLineParser()
    guard let fast = parser.parse(bytes) else { return }
    let source = String(decoding: bytes.prefix(2000), as: UTF8.self)
    do {
        let general = try ProxyRequestEvent(jsonLine: bytes)
        guard general == fast else {
            fatalError("FuzzEventJSON: the fast path read another event\n  input:   \(source)\n  fast:    \(fast)\n"
                + "  general: \(general)")
        }
    } catch {
        fatalError("FuzzEventJSON: the fast path read a line the general parser rejects (\(error))\n  input: \(source)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    checkFastPath(bytes)
    if let event = try? ProxyRequestEvent(jsonLine: bytes) {
        checkRoundTrip(event, input: bytes)
    }
    if let events = try? JSONLines.parse(bytes) {
        for event in events { checkRoundTrip(event, input: bytes) }
    }
    _ = try? JSONLines.parse(bytes, plausibleTime: .standard())
    return 0
}
