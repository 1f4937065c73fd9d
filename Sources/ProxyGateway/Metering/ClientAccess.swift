import Foundation
import Ledger

/// How the clients of a shared metering listener (`proxy-ledger proxy`, `serve --proxy-listen`)
/// prove that they may spend the gateway's bandwidth.
///
/// The client sends `Proxy-Authorization: Basic base64(username ":" password)` (RFC 7617): the
/// username names who the traffic is for (``OperationAttribution/init(proxyUsername:)``), the
/// password is the local access token. A client that fails the check gets `407` and nothing is
/// forwarded.
public enum ClientAccess: Sendable, CustomStringConvertible {
    /// The password must equal this local access token (compared in constant time). Secret.
    case token(String)
    /// Any password, or no credentials at all, is accepted (`--no-auth`; loopback listeners only).
    case open

    /// Whether `password` (the Basic password, `nil` without credentials) is admitted.
    func admits(password: String?) -> Bool {
        switch self {
        case .open: return true
        case .token(let token):
            guard let password else { return false }
            return Self.constantTimeEqual(Array(password.utf8), Array(token.utf8))
        }
    }

    private static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    /// `token(***)` or `open`; never the token.
    public var description: String {
        switch self {
        case .token: return "token(\(Redaction.mask))"
        case .open: return "open"
        }
    }
}

/// Why a shared listener's client username names no attribution.
public struct ClientAttributionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the username, and the form it should have.
    public var message: String

    /// `message`.
    public var description: String { message }
}

extension OperationAttribution {
    /// The operation recorded when a client's username names none.
    public static let proxyExchangeOperation = "proxy-exchange"
    /// The component recorded for a client without credentials on an open (`--no-auth`) listener.
    public static let unattributedComponent = "unattributed"

    /// The attribution a client of a shared listener names in its proxy username:
    /// `component`, `component/job-id` or `component/job-id/operation`.
    ///
    /// The username may be percent-encoded (as in a proxy URL's userinfo, `transcribe%2Fjob-7`).
    /// `component` and `operation` are 1–50 characters from `A–Z a–z 0–9 . _ -`; `job-id` is
    /// 1–128 visible ASCII characters; an empty `job-id` (`component//operation`) means none. The
    /// operation defaults to ``proxyExchangeOperation``.
    ///
    /// - Parameter proxyUsername: The Basic username.
    /// - Throws: ``ClientAttributionError`` naming the part that does not fit.
    public init(proxyUsername: String) throws(ClientAttributionError) {
        let decoded = proxyUsername.removingPercentEncoding ?? proxyUsername
        let parts = decoded.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        let component = parts[0]
        let jobID = parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil
        let operation = parts.count > 2 ? parts[2] : Self.proxyExchangeOperation
        guard Self.isLabel(component) else {
            throw ClientAttributionError(message:
                "the proxy username must start with a component of 1-50 letters, digits, '.', '_' or '-' (component, component/job-id or component/job-id/operation)")
        }
        guard Self.isLabel(operation) else {
            throw ClientAttributionError(message:
                "the operation after the second '/' of the proxy username must be 1-50 letters, digits, '.', '_' or '-'")
        }
        if let jobID, jobID.count > 128 || !jobID.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            throw ClientAttributionError(message: "the job id in the proxy username must be 1-128 visible ASCII characters")
        }
        self.init(component: component, operation: operation, jobID: jobID)
    }

    private static func isLabel(_ text: String) -> Bool {
        (1...50).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            }
    }
}
