import Foundation
import Ledger

/// The benchmark's event stream, parsed once before anything is timed.
///
/// `BENCH_REFERENCE_EVENTS` names where it comes from: a JSON Lines file, or an executable
/// generator run as `GENERATOR COUNT` that prints COUNT events as JSON Lines (a `.py` generator
/// runs under `python3`). Unset, the bench makes its own deterministic stream of about 500 bytes
/// of JSON per event.
struct ReferenceStream {
    let jsonl: [UInt8]
    let events: [ProxyRequestEvent]
    /// Where the stream came from, for the bench's first line.
    let source: String

    static let variable = "BENCH_REFERENCE_EVENTS"

    static func load(count: Int) throws -> ReferenceStream {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else {
            let events = (0..<count).map { syntheticEvent($0) }
            return ReferenceStream(
                jsonl: events.flatMap { $0.jsonLine() + [0x0A] }, events: events,
                source: "the bench's own synthetic stream (set \(variable) to use another)")
        }
        let bytes = path.hasSuffix(".jsonl") ? try readFile(path) : try generate(path, count: count)
        return ReferenceStream(jsonl: bytes, events: try JSONLines.parse(bytes), source: path)
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        return [UInt8](data)
    }

    private static func generate(_ generator: String, count: Int) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (generator.hasSuffix(".py") ? ["python3"] : []) + [generator, String(count)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: generator])
        }
        return [UInt8](data)
    }

    /// Event `index` of the synthetic stream: deterministic (ids derived from the index), with
    /// the reference stream's mix of components, outcomes and sizes.
    private static func syntheticEvent(_ index: Int) -> ProxyRequestEvent {
        let failed = index % 20 == 7
        let listing = index % 10 == 3
        return ProxyRequestEvent(
            eventID: uuid(index, salt: 1),
            timestamp: LedgerTimestamp(microseconds: 1_793_491_200_000_000 + Int64(index) * 155_000),
            component: listing ? "api-youtube-service" : "transcribe-worker",
            operation: listing ? "channel-listing" : "subtitle-download",
            videoID: listing ? nil : String(uuid(index, salt: 2).uuidString.lowercased().prefix(11)),
            channelName: listing ? "channel-\(index % 97)" : nil,
            jobID: uuid(index / 2, salt: 3).uuidString.lowercased(), correlationID: uuid(index / 2, salt: 4).uuidString.lowercased(),
            success: !failed, errorType: failed ? .rateLimited : nil, httpStatus: failed ? 429 : 200,
            requestBytes: Int64(1_500 + index % 700), responseBytes: failed ? 1_200 : Int64(150_000 + (index * 7_919) % 900_000),
            estimatedBytes: nil, bytesMeasured: true, durationMS: Int64(300 + (index * 31) % 4_000), proxied: true,
            attempt: 1 + index % 3)
    }

    private static func uuid(_ index: Int, salt: UInt64) -> UUID {
        var state = UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15 &+ salt &* 0xBF58_476D_1CE4_E5B9
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 {
            state = (state ^ (state >> 31)) &* 0x94D0_49BB_1331_11EB
            bytes[i] = UInt8(truncatingIfNeeded: state >> 24)
        }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
