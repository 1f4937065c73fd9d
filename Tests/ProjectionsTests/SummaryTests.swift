import Foundation
import Ledger
import Testing
import TestSupport

@testable import Projections

@Suite struct SummaryTests {
    private static let hour: Int64 = 3_600_000_000

    /// Five hand-made events over four hours, two components, two error types.
    private static func handMadeRecords() -> [LedgerRecord] {
        func record(
            _ sequence: UInt64, at offset: Int64, _ component: String, _ errorType: ProxyErrorType?, bytes: Int64?
        ) -> LedgerRecord {
            let event = ProxyRequestEvent(
                eventID: deterministicUUID(partition: 9, index: Int(sequence)),
                timestamp: LedgerTimestamp(microseconds: baseMicroseconds + offset),
                component: component, operation: "subtitle-download",
                success: errorType == nil, errorType: errorType,
                requestBytes: bytes.map { $0 / 10 }, responseBytes: bytes.map { $0 * 9 / 10 }, estimatedBytes: bytes,
                bytesMeasured: bytes != nil, durationMS: 10, proxied: true
            )
            return LedgerRecord(schemaVersion: 1, position: .init(partition: 0, sequence: sequence), event: event)
        }
        return [
            record(0, at: 0, "A", nil, bytes: 100),
            record(1, at: hour, "A", .rateLimited, bytes: 200),
            record(2, at: 2 * hour, "B", .timeout, bytes: nil),
            record(3, at: 2 * hour + 1, "B", nil, bytes: 400),
            record(4, at: 3 * hour, "B", .rateLimited, bytes: 500),
        ]
    }

    private func makeStore(_ directory: TemporaryDirectory) throws -> ProjectionStore {
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        try Projector(store: store).apply(Self.handMadeRecords())
        return store
    }

    @Test func summaryOfAllEventsIsExact() throws {
        let directory = try TemporaryDirectory()
        let summary = try makeStore(directory).summary(since: nil)
        #expect(summary.totalRequests == 5)
        #expect(summary.successfulRequests == 2)
        #expect(summary.failedRequests == 3)
        #expect(summary.successRate == 0.4)
        #expect(summary.successPercentage == 40)
        #expect(summary.bandwidthBytes == 1_200)
        #expect(summary.requestBytes == 120)
        #expect(summary.responseBytes == 1_080)
        #expect(summary.byComponent == ["A": 2, "B": 3])
        #expect(summary.byErrorType == ["rate_limited": 2, "timeout": 1])
        #expect(summary.since == nil)
    }

    @Test func sinceIsInclusiveAtTheMicrosecond() throws {
        let directory = try TemporaryDirectory()
        let store = try makeStore(directory)
        let since = LedgerTimestamp(microseconds: baseMicroseconds + 2 * Self.hour)
        let summary = try store.summary(since: since)
        #expect(summary.totalRequests == 3)
        #expect(summary.successfulRequests == 1)
        #expect(summary.failedRequests == 2)
        #expect(summary.bandwidthBytes == 900)
        #expect(summary.requestBytes == 90)
        #expect(summary.responseBytes == 810)
        #expect(summary.byComponent == ["B": 3])
        #expect(summary.byErrorType == ["rate_limited": 1, "timeout": 1])
        #expect(summary.since == since)

        let later = try store.summary(since: LedgerTimestamp(microseconds: since.microseconds + 1))
        #expect(later.totalRequests == 2)
        #expect(later.byErrorType == ["rate_limited": 1])
        let future = try store.summary(since: LedgerTimestamp(microseconds: baseMicroseconds + 4 * Self.hour))
        #expect(future == ProxyUsageSummary(since: LedgerTimestamp(microseconds: baseMicroseconds + 4 * Self.hour)))
    }

    @Test func emptyStoreHasZeroSuccessRate() throws {
        let directory = try TemporaryDirectory()
        let summary = try ProjectionStore(path: directory.file("p.sqlite")).summary(since: nil)
        #expect(summary == ProxyUsageSummary())
        #expect(summary.successRate == 0)
    }

    @Test func jsonUsesSnakeCaseKeysAndRoundTrips() throws {
        let directory = try TemporaryDirectory()
        let since = LedgerTimestamp(microseconds: baseMicroseconds + Self.hour)
        let summary = try makeStore(directory).summary(since: since)
        let data = try JSONEncoder().encode(summary)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "total_requests", "successful_requests", "failed_requests", "success_rate", "bandwidth_bytes",
                "request_bytes", "response_bytes", "by_component", "by_error_type", "since",
            ])
        #expect(object["since"] as? String == "2026-11-01T01:00:00.000000Z")
        #expect(object["total_requests"] as? Int == 4)
        #expect(object["success_rate"] as? Double == 0.25)
        #expect(try JSONDecoder().decode(ProxyUsageSummary.self, from: data) == summary)

        let all = try JSONEncoder().encode(ProxyUsageSummary())
        let allObject = try #require(try JSONSerialization.jsonObject(with: all) as? [String: Any])
        #expect(allObject["since"] is NSNull)
    }
}
