import Foundation
public import Ledger

/// Usage totals over `proxy_request_logs`: the original design's summary, computed by
/// ``ProjectionStore/summary(since:)``.
///
/// Encodes as JSON with snake_case keys (`total_requests`, `success_rate`, `bandwidth_bytes`,
/// `by_component`, `by_error_type`, `since` as RFC 3339 UTC or `null`).
public struct ProxyUsageSummary: Sendable, Hashable, Codable {
    /// All projected requests in the window.
    public var totalRequests: Int = 0
    /// Requests with `success = 1`.
    public var successfulRequests: Int = 0
    /// Requests with `success = 0`.
    public var failedRequests: Int = 0
    /// Sum of `estimated_bytes` (bytes): the measured total where measured, else the estimate.
    public var bandwidthBytes: Int64 = 0
    /// Sum of `request_bytes` (bytes sent to the gateway, measured on the wire).
    public var requestBytes: Int64 = 0
    /// Sum of `response_bytes` (bytes received from the gateway, measured on the wire).
    public var responseBytes: Int64 = 0
    /// Request count per component.
    public var byComponent: [String: Int] = [:]
    /// Request count per `error_type` (requests without an error type are not counted here).
    public var byErrorType: [String: Int] = [:]
    /// The inclusive lower bound of the window (UTC µs), or `nil` for all time.
    public var since: LedgerTimestamp?

    /// Creates a summary; every count and sum starts at 0.
    ///
    /// - Parameter since: The inclusive lower bound of the window, `nil` for all time.
    public init(since: LedgerTimestamp? = nil) {
        self.since = since
    }

    /// `successfulRequests / totalRequests` in 0…1, or 0 when there were no requests.
    public var successRate: Double {
        totalRequests == 0 ? 0 : Double(successfulRequests) / Double(totalRequests)
    }

    /// ``successRate`` as a percentage in 0…100, as the original design reported it.
    public var successPercentage: Double { successRate * 100 }

    private enum CodingKeys: String, CodingKey {
        case totalRequests = "total_requests"
        case successfulRequests = "successful_requests"
        case failedRequests = "failed_requests"
        case successRate = "success_rate"
        case bandwidthBytes = "bandwidth_bytes"
        case requestBytes = "request_bytes"
        case responseBytes = "response_bytes"
        case byComponent = "by_component"
        case byErrorType = "by_error_type"
        case since
    }

    /// Decodes the JSON written by ``encode(to:)``; `success_rate` is recomputed, not read.
    ///
    /// - Throws: `DecodingError` for a missing key, a wrong type or a `since` that is not RFC 3339.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        totalRequests = try container.decode(Int.self, forKey: .totalRequests)
        successfulRequests = try container.decode(Int.self, forKey: .successfulRequests)
        failedRequests = try container.decode(Int.self, forKey: .failedRequests)
        bandwidthBytes = try container.decode(Int64.self, forKey: .bandwidthBytes)
        requestBytes = try container.decode(Int64.self, forKey: .requestBytes)
        responseBytes = try container.decode(Int64.self, forKey: .responseBytes)
        byComponent = try container.decode([String: Int].self, forKey: .byComponent)
        byErrorType = try container.decode([String: Int].self, forKey: .byErrorType)
        if let text = try container.decodeIfPresent(String.self, forKey: .since) {
            guard let timestamp = LedgerTimestamp(rfc3339: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .since, in: container, debugDescription: "not an RFC 3339 timestamp"
                )
            }
            since = timestamp
        }
    }

    /// Encodes with snake_case keys; `since` as RFC 3339 UTC with six fraction digits, or `null`.
    ///
    /// - Throws: `EncodingError` from the encoder.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(totalRequests, forKey: .totalRequests)
        try container.encode(successfulRequests, forKey: .successfulRequests)
        try container.encode(failedRequests, forKey: .failedRequests)
        try container.encode(successRate, forKey: .successRate)
        try container.encode(bandwidthBytes, forKey: .bandwidthBytes)
        try container.encode(requestBytes, forKey: .requestBytes)
        try container.encode(responseBytes, forKey: .responseBytes)
        try container.encode(byComponent, forKey: .byComponent)
        try container.encode(byErrorType, forKey: .byErrorType)
        try container.encode(since.map { TextEncoding.rfc3339(microseconds: $0.microseconds) }, forKey: .since)
    }
}
