import Foundation

/// The gateway the metering proxy forwards to, with the real credentials it adds upstream.
///
/// ```swift
/// let upstream = try MeteringUpstream(service: service)   // p.webshare.io:80, "<user>-rotate"
/// let proxy = try await MeteringProxy.start(upstream: upstream, logger: logger)
/// ```
///
/// `password` is a secret: ``description``, ``debugDescription`` and the reflection mirror show
/// it as `***`. The credentials only ever leave the process inside the `Proxy-Authorization`
/// field sent to the gateway (HTTP Basic, RFC 7617; RFC 9110 §11.7.2).
public struct MeteringUpstream: Sendable, Equatable {
    /// The gateway host name or address, e.g. `p.webshare.io` or `127.0.0.1`.
    public var host: String
    /// The gateway TCP port, `1...65535`.
    public var port: Int
    /// The username sent to the gateway, raw (not percent-encoded).
    public var username: String
    /// The password sent to the gateway, raw (not percent-encoded). Secret.
    public var password: String

    /// Creates an upstream from raw values.
    ///
    /// - Parameters:
    ///   - host: The gateway host.
    ///   - port: The gateway port, `1...65535`.
    ///   - username: The raw username (for Webshare's backbone, already `<user>-rotate`).
    ///   - password: The raw password; any characters, including `@ : / % #`.
    /// - Throws: ``MeteringError`` with code ``MeteringError/Code/invalidUpstream`` when `host` or
    ///   `username` is empty, `username` contains `:` (RFC 7617 §2 forbids it), or `port` is out of range.
    public init(host: String, port: Int, username: String, password: String) throws(MeteringError) {
        guard !host.isEmpty, (1...65535).contains(port) else {
            throw MeteringError(.invalidUpstream, "the gateway must be a host and a port in 1...65535, got \(host):\(port)")
        }
        guard !username.isEmpty, !username.contains(":") else {
            throw MeteringError(.invalidUpstream, "the gateway username must be non-empty and contain no ':'")
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// The upstream of an enabled ``ProxyService``: its gateway host and port,
    /// ``ProxyService/gatewayUsername`` (backbone rule applied) and the configured password.
    ///
    /// - Parameter service: The route; it must be enabled.
    /// - Throws: ``MeteringError`` with code ``MeteringError/Code/invalidUpstream`` when the route is
    ///   disabled or lacks credentials.
    public init(service: ProxyService) throws(MeteringError) {
        guard service.isEnabled, let username = service.gatewayUsername, let password = service.settings.password
        else {
            throw MeteringError(.invalidUpstream, "the proxy is disabled for \(service.component.rawValue)")
        }
        try self.init(
            host: service.settings.gatewayHost, port: service.settings.gatewayPort, username: username,
            password: password)
    }

    /// The upstream of a shared listener (`proxy-ledger proxy`), which serves every component:
    /// the gateway of `settings`, with the backbone rule applied to the username.
    ///
    /// - Parameter settings: The proxy settings; `PROXY_ENABLED` must be on.
    /// - Throws: ``MeteringError`` with code ``MeteringError/Code/invalidUpstream`` when the proxy is
    ///   off, or `PROXY_USERNAME` or `PROXY_PASSWORD` is unset.
    public init(sharedListener settings: ProxySettings) throws(MeteringError) {
        guard settings.enabled else {
            throw MeteringError(.invalidUpstream,
                "the proxy is off (PROXY_ENABLED=false): a metering listener forwards to the gateway, so set PROXY_ENABLED=true")
        }
        guard let username = settings.username, !username.isEmpty, let password = settings.password, !password.isEmpty else {
            throw MeteringError(.invalidUpstream, "PROXY_USERNAME and PROXY_PASSWORD (or PROXY_PASSWORD_FILE) must be set")
        }
        try self.init(
            host: settings.gatewayHost, port: settings.gatewayPort,
            username: ProxyService.applyBackboneRule(to: username, useBackbone: settings.useBackbone), password: password)
    }

    /// The `Proxy-Authorization` value: `Basic base64(username ":" password)`, UTF-8 (RFC 7617 §2.1).
    /// Contains the password: never log it.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

extension MeteringUpstream: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `MeteringUpstream(host:port, user: name, password: ***)`; safe to log.
    public var description: String { "MeteringUpstream(\(host):\(port), user: \(username), password: \(Redaction.mask))" }

    /// Same as ``description``.
    public var debugDescription: String { description }

    /// A mirror without the password, so `dump(upstream)` does not leak it.
    public var customMirror: Mirror {
        Mirror(
            self, children: ["host": host, "port": port, "username": username, "password": Redaction.mask],
            displayStyle: .struct)
    }
}
