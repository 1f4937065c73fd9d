import Foundation
import Testing
import TestSupport

@testable import Ledger

/// Inputs the fuzz targets (`Fuzz/`, docs/fuzzing.md) found, minimised, with the behaviour they must have.
@Suite("fuzz regressions: ledger")
struct LedgerFuzzRegressionTests {
    static let event = #"{"event_id":"6f1c2a7e-3b9d-4c1e-9a51-0d2b7c8e4f10","timestamp":"TIME","component":"c","operation":"o","success":true,"duration_ms":1,"proxied":true}"#

    /// FuzzEventJSON: `0000-01-01T00:00:00+01:00` is 0000-12-31T23:00Z of year -1, which `jsonLine()`
    /// wrote as `000/-12-31…` (and year 10000 as `0000-…`), so the event did not read back.
    @Test("an offset that moves a date-time outside years 0000 to 9999 is not an RFC 3339 instant",
          arguments: ["0000-01-01T00:00:00+01:00", "0000-01-01T00:59:59.999999+01:00", "9999-12-31T23:59:59-00:01",
                      "9999-12-31T23:30:00-23:59"])
    func timestampOutsideFourDigitYears(_ text: String) throws {
        #expect(LedgerTimestamp(rfc3339: text) == nil)
        let line = Array(Self.event.replacingOccurrences(of: "TIME", with: text).utf8)
        let error = try #require(throws: EventDecodingError.self) { try ProxyRequestEvent(jsonLine: line) }
        #expect(error.field == "timestamp")
    }

    @Test("the first and last instants of years 0000 to 9999 round-trip", arguments: [
        ("0000-01-01T01:00:00+01:00", "0000-01-01T00:00:00.000000Z"),
        ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
        ("9999-12-31T22:59:59.999999-01:00", "9999-12-31T23:59:59.999999Z"),
    ])
    func timestampAtTheEnds(_ text: String, _ utc: String) throws {
        let timestamp = try #require(LedgerTimestamp(rfc3339: text))
        #expect(timestamp.rfc3339 == utc)
        let event = try ProxyRequestEvent(jsonLine: Array(Self.event.replacingOccurrences(of: "TIME", with: text).utf8))
        #expect(try ProxyRequestEvent(jsonLine: event.jsonLine()) == event)
    }

    // MARK: segments (FuzzSegment)

    static let segment0 = "/partition-0/00000000000000000000.seg"

    /// A one-partition ledger whose first segment holds one frame of `count` events, with the
    /// little-endian `value` written at `field` of that frame's header and the CRC-32C made valid
    /// again (as a tampering or damaged writer would leave it).
    func ledger(_ label: String, count: Int = 3, field: Int, value: some FixedWidthInteger) async throws -> TemporaryDirectory {
        let scratch = try TemporaryDirectory(label)
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none))
        _ = try await writer.append(EventFactory.events(count))
        try await writer.close()
        let path = scratch.path + Self.segment0
        var bytes = try POSIXFile.readAll(path)
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(field..<(field + $0.count), with: $0) }
        let compressed = Int(UInt32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 40, as: UInt32.self) }))
        let crc = CRC32C.checksum(Array(bytes[88..<(88 + compressed)]), continuing: CRC32C.checksum(Array(bytes[0..<84])))
        withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange(84..<88, with: $0) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return scratch
    }

    /// Reads the ledger strictly, salvaging and with the verifier; returns what each saw.
    func readAll(_ directory: String) throws -> (strict: LedgerError?, salvaged: Int, skipped: [SkippedFrame], verified: LedgerVerification) {
        let reader = try LedgerReader(directory: directory)
        var strict: LedgerError?
        do { try reader.scanAll { _ in } } catch let error as LedgerError { strict = error }
        var salvaged = 0
        var skipped: [SkippedFrame] = []
        try reader.scanAll(salvage: { skipped.append($0) }) { salvaged += $0.count }
        return (strict, salvaged, skipped, try LedgerVerifier.verify(directory: directory))
    }

    /// FuzzSegment: a frame with base sequence 2^64 - 1 (and a valid CRC) trapped the salvaging
    /// reader on `FrameHeader.nextSequence` (arithmetic overflow) after it reported the gap.
    @Test("a frame whose sequences would pass 2^64 - 1 is a bad header, never an overflow trap",
          arguments: [UInt64.max, UInt64.max - 2])
    func baseSequenceOverflow(_ base: UInt64) async throws {
        let scratch = try await ledger("fuzz-base", count: 3, field: 8, value: base)
        let seen = try readAll(scratch.path)
        #expect(seen.strict?.code == .corruptFrame && seen.strict?.offset == 0)
        #expect(seen.strict?.message.contains("sequence range") == true)
        #expect(seen.salvaged == 0 && seen.skipped.count == 1 && seen.skipped.first?.offset == 0)
        #expect(seen.verified.firstFault?.code == .corruptFrame && seen.verified.frames == 0)
    }

    @Test("a frame that ends exactly at sequence 2^64 - 1 still reads as a sequence gap, not a bad header")
    func baseSequenceAtTheTop() async throws {
        let scratch = try await ledger("fuzz-base-top", count: 3, field: 8, value: UInt64.max - 3)
        let seen = try readAll(scratch.path)
        #expect(seen.strict?.code == .sequenceGap)
        #expect(seen.skipped.map(\.lostSequences) == [0..<(UInt64.max - 3)])
    }

    /// FuzzSegment: a header claiming a raw length of 4 GiB (with a valid CRC) made the reader
    /// allocate 4 GiB before zstd found that the payload is 1 KiB (libFuzzer: out-of-memory).
    @Test("a header's raw length is checked against what the payload decodes to, without allocating it",
          arguments: [UInt32.max, UInt32(1 << 31), UInt32(Zstd.initialOutputCapacity + 1)])
    func hugeRawLength(_ rawLength: UInt32) async throws {
        let scratch = try await ledger("fuzz-raw", field: 20, value: rawLength)
        let seen = try readAll(scratch.path)
        #expect(seen.strict?.code == .corruptFrame)
        #expect(seen.strict?.message.contains("header says \(rawLength)") == true)
        #expect(seen.salvaged == 0 && seen.skipped.count == 1)
        #expect(seen.verified.firstFault?.code == .corruptFrame)
    }

    @Test("a payload larger than the first output buffer decodes in full, and only to its exact length")
    func largePayloadDecodes() throws {
        let pattern = (0..<4093).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let raw = Array(repeatElement(pattern, count: Zstd.initialOutputCapacity / pattern.count + 2).joined())
        let compressed = try Zstd.compress(raw)
        func decompress(_ input: ArraySlice<UInt8>, _ rawLength: Int) throws -> [UInt8] {
            try Array(input).withUnsafeBytes { try Zstd.decompress($0, rawLength: rawLength) }
        }
        #expect(try decompress(compressed[...], raw.count) == raw)
        let short = #expect(throws: LedgerError.self) { try decompress(compressed[...], raw.count - 1) }
        #expect(short?.message.contains("more than the \(raw.count - 1) bytes") == true)
        let long = #expect(throws: LedgerError.self) { try decompress(compressed[...], raw.count + 1) }
        #expect(long?.message.contains("decoded to \(raw.count) bytes") == true)
        let cut = #expect(throws: LedgerError.self) { try decompress(compressed.prefix(compressed.count / 2), raw.count) }
        #expect(cut?.code == .compression)
    }

    /// Found while writing FuzzSegment (which writes a single segment): a segment named below the
    /// sequence its predecessor ended at (a stray copy) built the range `expected..<base` with
    /// `base < expected`, a trap, before the gap could be reported.
    @Test("a segment that starts below where the previous one ended is a sequence gap, never a trap")
    func segmentStartsBelowTheExpectedSequence() async throws {
        let scratch = try TemporaryDirectory("fuzz-overlap")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none))
        _ = try await writer.append(EventFactory.events(10))
        try await writer.close()
        let first = try POSIXFile.readAll(scratch.path + Self.segment0)
        try Data(first).write(to: URL(fileURLWithPath: scratch.path + "/partition-0/00000000000000000004.seg"))
        let seen = try readAll(scratch.path)
        #expect(seen.strict?.code == .sequenceGap)
        #expect(seen.strict?.file?.hasSuffix("00000000000000000004.seg") == true)
        #expect(seen.salvaged >= 10 && seen.skipped.first?.lostSequences == nil)
        #expect(seen.verified.firstFault?.code == .sequenceGap)
    }

    /// FuzzSegment (payload mode): a payload whose event count varint says 2^48 made
    /// `BatchCodec.decode` reserve room for 2^48 events before reading any (ASan:
    /// allocation-size-too-big; a trap without it).
    @Test("an event count the payload's ids cannot back is a corrupt frame, not an allocation")
    func hugeEventCount() async throws {
        let events = EventFactory.events(3)
        var payload = try BatchCodec.encode(events)
        #expect(payload[1] == 3)
        payload.replaceSubrange(1..<2, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F])
        let error = #expect(throws: LedgerError.self) { try BatchCodec.decode(payload) }
        #expect(error?.code == .corruptFrame && error?.message.contains("holds the ids of 3") == true)

        let scratch = try TemporaryDirectory("fuzz-count")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none))
        try await writer.close()
        let genesis = FrameChain.genesis(ledgerID: try #require(try LedgerDirectory(path: scratch.path).ledgerID()), partition: 0)
        let frame = FrameHeader.makeFrame(
            baseSequence: 0, recordCount: 3, rawLength: payload.count, earliest: 0, latest: 0, appendedAt: 0,
            previousDigest: genesis, payload: try Zstd.compress(payload))
        try Data(frame.bytes).write(to: URL(fileURLWithPath: scratch.path + Self.segment0))
        let seen = try readAll(scratch.path)
        #expect(seen.strict?.code == .corruptFrame && seen.strict?.message.contains("holds the ids of 3") == true)
        #expect(seen.salvaged == 0 && seen.skipped.map(\.lostSequences) == [0..<3])
        #expect(seen.verified.firstFault?.code == .corruptFrame)
    }
}
