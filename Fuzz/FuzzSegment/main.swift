// Fuzzes frame and segment decoding: the input is the only segment of a one-partition ledger,
// read by `LedgerReader.scanAll` (strict and salvaging) and checked by `LedgerVerifier.verify`.
// Any `LedgerError` is a correct answer; a trap, a hang or a sanitizer report is a bug.
import Foundation
import FuzzSupport
import Ledger

@_cdecl("FuzzSegment_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}

/// One temporary ledger per process; each input overwrites its segment.
private let ledger: (directory: String, segment: String) = {
    let directory = NSTemporaryDirectory() + "fuzz-segment-\(getpid())"
    let partition = directory + "/partition-0"
    do {
        try FileManager.default.createDirectory(atPath: partition, withIntermediateDirectories: true)
        try Data("proxy-ledger ledger\nid 00000000-0000-4000-8000-000000000000\n".utf8)
            .write(to: URL(fileURLWithPath: directory + "/LEDGER"))
    } catch {
        fatalError("FuzzSegment: cannot create the ledger folder \(directory): \(error)")
    }
    atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "fuzz-segment-\(getpid())") }
    return (directory, partition + "/00000000000000000000.seg")
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: ledger.segment))
    } catch {
        fatalError("FuzzSegment: cannot write \(ledger.segment): \(error)")
    }
    var strictEvents = 0
    var strictFault = false
    do {
        let reader = try LedgerReader(directory: ledger.directory)
        do {
            try reader.scanAll { strictEvents += $0.count }
        } catch is LedgerError {
            strictFault = true
        }
        var salvagedEvents = 0
        var skipped: [SkippedFrame] = []
        try reader.scanAll(salvage: { skipped.append($0) }) { salvagedEvents += $0.count }
        // Salvage only adds: it delivers every event the strict scan delivered before its fault.
        if salvagedEvents < strictEvents {
            fatalError("FuzzSegment: salvage read \(salvagedEvents) events, the strict scan \(strictEvents)")
        }
        if !strictFault, !skipped.isEmpty {
            fatalError("FuzzSegment: the strict scan passed but salvage skipped \(skipped)")
        }
    } catch is LedgerError {
        // A fault is a correct answer for damaged input.
    } catch {
        fatalError("FuzzSegment: the reader threw a non-LedgerError: \(error)")
    }
    do {
        _ = try LedgerVerifier.verify(directory: ledger.directory)
    } catch is LedgerError {
    } catch {
        fatalError("FuzzSegment: the verifier threw a non-LedgerError: \(error)")
    }
    return 0
}
