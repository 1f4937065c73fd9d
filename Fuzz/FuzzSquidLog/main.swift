// Fuzzes the Squid access log parser: format detection, and both formats with and without
// skipping bad lines. A thrown `ReconciliationError` is a correct answer; a trap is a bug.
import FuzzSupport
import Reconciliation

@_cdecl("FuzzSquidLog_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzInput(data, size), as: UTF8.self)
    _ = SquidAccessLogParser.detectFormat(text)
    for format in SquidAccessLogParser.Format.allCases {
        if let result = try? SquidAccessLogParser.parse(text, format: format, skipBadLines: true, file: "fuzz.log") {
            if result.records.count + result.badLines.count != result.linesRead {
                fatalError("FuzzSquidLog: \(result.records.count) records + \(result.badLines.count) bad lines "
                    + "!= \(result.linesRead) lines read")
            }
        } else {
            fatalError("FuzzSquidLog: parse with skipBadLines threw")
        }
        _ = try? SquidAccessLogParser.parse(text, format: format, skipBadLines: false)
    }
    return 0
}
