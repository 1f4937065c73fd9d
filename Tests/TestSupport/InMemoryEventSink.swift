import Foundation
public import Ledger

/// An ``EventAppending`` sink that keeps events in memory, for tests.
///
/// Positions are partition 0, sequences from 0. An event id seen before is acknowledged as a
/// duplicate with its original position and not stored again, like the ledger. Set
/// ``failNextAppends`` to make appends throw.
public actor InMemoryEventSink: EventAppending {
    private var stored: [ProxyRequestEvent] = []
    private var positions: [UUID: LedgerPosition] = [:]
    private var failuresToInject = 0

    /// Creates an empty sink.
    public init() {}

    /// The stored events, in append order.
    public var events: [ProxyRequestEvent] { stored }

    /// How many `append` calls (batches) were made, including failed ones.
    public private(set) var appendCalls = 0

    /// Makes the next `count` appends throw ``InMemoryEventSinkError``.
    public func failNextAppends(_ count: Int) { failuresToInject = count }

    /// Stores `events` (skipping ids already stored) and acknowledges each, or throws
    /// ``InMemoryEventSinkError`` while injected failures remain.
    public func append(_ events: [ProxyRequestEvent]) async throws -> [AppendAcknowledgement] {
        appendCalls += 1
        if failuresToInject > 0 {
            failuresToInject -= 1
            throw InMemoryEventSinkError(message: "injected append failure")
        }
        return events.map { event in
            if let position = positions[event.eventID] {
                return AppendAcknowledgement(eventID: event.eventID, position: position, duplicate: true)
            }
            let position = LedgerPosition(partition: 0, sequence: UInt64(stored.count))
            stored.append(event)
            positions[event.eventID] = position
            return AppendAcknowledgement(eventID: event.eventID, position: position, duplicate: false)
        }
    }
}

/// The error ``InMemoryEventSink`` throws when told to fail.
public struct InMemoryEventSinkError: Error, Sendable, CustomStringConvertible {
    /// Why the append failed.
    public var message: String
    /// The message.
    public var description: String { "InMemoryEventSinkError: \(message)" }
}
