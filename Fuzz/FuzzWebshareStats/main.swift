// Fuzzes the Webshare hourly stats JSON parser, with and without skipping bad entries; the input
// is read as bytes and also after a round through `String(decoding:as:)` (valid UTF-8). A thrown
// `ReconciliationError` is a correct answer; a trap is a bug.
import Foundation
import FuzzSupport
import Reconciliation

@_cdecl("FuzzWebshareStats_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let valid = Array(String(decoding: bytes, as: UTF8.self).utf8)
    for input in bytes == valid ? [bytes] : [bytes, valid] {
        _ = try? WebshareStats.parse(Data(input), skipBadLines: true, file: "fuzz.json")
        _ = try? WebshareStats.parse(Data(input), skipBadLines: false)
    }
    return 0
}
