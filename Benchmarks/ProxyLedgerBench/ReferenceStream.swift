import Foundation
import Ledger

/// The reference event stream of `../shared/bench/reference_events.py COUNT` (about 500 bytes of
/// JSON per event), parsed once before anything is timed.
struct ReferenceStream {
    let jsonl: [UInt8]
    let events: [ProxyRequestEvent]

    /// Runs the generator; falls back to a deterministic Swift stream when the script is absent.
    static func load(count: Int) throws -> ReferenceStream {
        let script = ["../shared/bench/reference_events.py", "shared/bench/reference_events.py"]
            .first { FileManager.default.fileExists(atPath: $0) }
        guard let script else {
            print("note: ../shared/bench/reference_events.py not found; using a synthetic stream")
            let events = (0..<count).map { syntheticEvent($0) }
            return ReferenceStream(jsonl: events.flatMap { $0.jsonLine() + [0x0A] }, events: events)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, String(count)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let bytes = [UInt8](data)
        return ReferenceStream(jsonl: bytes, events: try JSONLines.parse(bytes))
    }

    private static func syntheticEvent(_ index: Int) -> ProxyRequestEvent {
        ProxyRequestEvent(
            timestamp: LedgerTimestamp(microseconds: 1_793_491_200_000_000 + Int64(index) * 100_000),
            component: "transcribe-worker", operation: "subtitle-download", videoID: "v\(index)",
            jobID: UUID().uuidString.lowercased(), correlationID: UUID().uuidString.lowercased(), success: true,
            httpStatus: 200, requestBytes: 1000, responseBytes: Int64(200_000 + index % 1_000_000),
            estimatedBytes: Int64(201_000 + index % 1_000_000), bytesMeasured: true, durationMS: 900, proxied: true)
    }
}
