// Fuzzes the Webshare activity CSV parser, with and without skipping bad records. A thrown
// `ReconciliationError` is a correct answer; a trap is a bug.
import FuzzSupport
import Reconciliation

@_cdecl("FuzzWebshareCSV_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzInput(data, size), as: UTF8.self)
    _ = try? WebshareActivityCSV.parse(text, skipBadLines: true, file: "fuzz.csv")
    _ = try? WebshareActivityCSV.parse(text, skipBadLines: false)
    return 0
}
