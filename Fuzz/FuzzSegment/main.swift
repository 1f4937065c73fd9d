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

/// One temporary ledger per process; each input overwrites its segment. It lives in /dev/shm when
/// there is one: rewriting a file thousands of times a second on a disk file system is several
/// times slower (ext4 flushes a file that is truncated and written again).
private let ledger: (directory: String, segment: String) = {
    var isDirectory: ObjCBool = false
    let memory = FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory) && isDirectory.boolValue
        && FileManager.default.isWritableFile(atPath: "/dev/shm")
    let directory = (memory ? "/dev/shm/" : NSTemporaryDirectory()) + "proxy-ledger-fuzz-segment-\(getpid())"
    let partition = directory + "/partition-0"
    do {
        try FileManager.default.createDirectory(atPath: partition, withIntermediateDirectories: true)
        try Data("proxy-ledger ledger\nid \(fuzzLedgerID)\n".utf8)
            .write(to: URL(fileURLWithPath: directory + "/LEDGER"))
    } catch {
        fatalError("FuzzSegment: cannot create the ledger folder \(directory): \(error)")
    }
    ledgerDirectory = directory
    atexit { if let directory = ledgerDirectory { try? FileManager.default.removeItem(atPath: directory) } }
    return (directory, partition + "/00000000000000000000.seg")
}()

/// The folder to remove at exit (an `atexit` handler cannot capture it).
nonisolated(unsafe) private var ledgerDirectory: String?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    // Each input is read three ways: as the segment's bytes; with its frames' checksums and links
    // made valid (FrameRepair.swift), so mutated header fields and payloads get past the CRC; and
    // as the zstd-uncompressed payload of one valid frame, for the columnar event decoding.
    check(segment: bytes)
    let repaired = repairingChecksums(bytes)
    if repaired != bytes { check(segment: repaired) }
    check(segment: frameSegment(payload: bytes))
    return 0
}

/// Writes `bytes` as the ledger's only segment and reads it every way there is.
private func check(segment bytes: [UInt8]) {
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
}
