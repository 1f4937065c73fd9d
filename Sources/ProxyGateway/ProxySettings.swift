/// A component of the system that may route its YouTube traffic through the proxy gateway.
///
/// The raw values are the `component` strings written to the ledger (event schema v1).
public enum ProxyComponent: String, Sendable, CaseIterable {
    /// The subtitle transcription worker. Override: `TRANSCRIBE_PROXY_ENABLED`.
    case transcribe = "transcribe-worker"
    /// The YouTube API/channel browsing service. Override: `API_PROXY_ENABLED`.
    case api = "api-youtube-service"
}

/// The proxy gateway configuration, usually read from the environment with
/// ``fromEnvironment(_:)``.
///
/// ```swift
/// let settings = try ProxySettings.fromEnvironment()
/// let service = try ProxyService(settings: settings, component: .transcribe)
/// ```
///
/// `password` is a secret: ``description``, ``debugDescription`` and the reflection mirror
/// (`dump`) show it as `***`.
///
/// Source: Webshare "Proxy Connection" (https://apidocs.webshare.io/proxy-connection): the
/// backbone gateway is `p.webshare.io`, ports 80, 1080, 3128 and 9999–19999 with
/// username/password authentication.
public struct ProxySettings: Sendable, Equatable {
    /// Whether components route through the proxy unless overridden. `PROXY_ENABLED`, default `false`.
    public var enabled: Bool
    /// The gateway host name. `PROXY_GATEWAY_HOST`, default `"p.webshare.io"`.
    public var gatewayHost: String
    /// The gateway TCP port, `1...65535`. `PROXY_GATEWAY_PORT`, default `80`.
    public var gatewayPort: Int
    /// The proxy username as configured, before the backbone rule. `PROXY_USERNAME`.
    public var username: String?
    /// The proxy password. Secret: never printed, logged or put in errors. `PROXY_PASSWORD`.
    public var password: String?
    /// Whether to use Webshare's rotating backbone username (`<username>-rotate`).
    /// `PROXY_USE_BACKBONE`, default `true`. See ``ProxyService/gatewayUsername``.
    public var useBackbone: Bool
    /// The maximum number of concurrent proxied jobs; `0` means unlimited.
    /// `PROXY_MAX_CONCURRENCY`, default `0`.
    public var maxConcurrency: Int
    /// Overrides ``enabled`` for ``ProxyComponent/transcribe``; `nil` follows ``enabled``.
    /// `TRANSCRIBE_PROXY_ENABLED`.
    public var transcribeEnabled: Bool?
    /// Overrides ``enabled`` for ``ProxyComponent/api``; `nil` follows ``enabled``.
    /// `API_PROXY_ENABLED`.
    public var apiEnabled: Bool?
    /// The metering listener's rules, from the settings file's `rules` (no variable); `[]` = none.
    public var rules: [TrafficRule] = []

    /// The default gateway host, Webshare's backbone endpoint.
    public static let defaultGatewayHost = "p.webshare.io"
    /// The default gateway port (HTTP proxy on port 80).
    public static let defaultGatewayPort = 80

    /// Creates settings. Every parameter defaults to the value used when its environment
    /// variable is unset. Nothing is validated here; ``ProxyService/init(settings:component:)``
    /// validates what it uses.
    ///
    /// - Parameters:
    ///   - enabled: `PROXY_ENABLED`.
    ///   - gatewayHost: `PROXY_GATEWAY_HOST`.
    ///   - gatewayPort: `PROXY_GATEWAY_PORT`, `1...65535`.
    ///   - username: `PROXY_USERNAME`.
    ///   - password: `PROXY_PASSWORD` (secret).
    ///   - useBackbone: `PROXY_USE_BACKBONE`.
    ///   - maxConcurrency: `PROXY_MAX_CONCURRENCY`, `0` = unlimited.
    ///   - transcribeEnabled: `TRANSCRIBE_PROXY_ENABLED`, `nil` = follow `enabled`.
    ///   - apiEnabled: `API_PROXY_ENABLED`, `nil` = follow `enabled`.
    public init(
        enabled: Bool = false,
        gatewayHost: String = ProxySettings.defaultGatewayHost,
        gatewayPort: Int = ProxySettings.defaultGatewayPort,
        username: String? = nil,
        password: String? = nil,
        useBackbone: Bool = true,
        maxConcurrency: Int = 0,
        transcribeEnabled: Bool? = nil,
        apiEnabled: Bool? = nil
    ) {
        self.enabled = enabled
        self.gatewayHost = gatewayHost
        self.gatewayPort = gatewayPort
        self.username = username
        self.password = password
        self.useBackbone = useBackbone
        self.maxConcurrency = maxConcurrency
        self.transcribeEnabled = transcribeEnabled
        self.apiEnabled = apiEnabled
    }

    /// Whether `component` routes through the proxy: its override when set, else ``enabled``.
    ///
    /// - Parameter component: The component asking.
    /// - Returns: `true` when the component's traffic must go through the gateway.
    public func isEnabled(for component: ProxyComponent) -> Bool {
        switch component {
        case .transcribe: transcribeEnabled ?? enabled
        case .api: apiEnabled ?? enabled
        }
    }
}

extension ProxySettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// All fields, with the password shown as `***` (or `nil` when unset). Safe to log.
    public var description: String {
        func optional(_ value: Bool?) -> String { value.map { String($0) } ?? "nil" }
        let user = username.map { "\"\($0)\"" } ?? "nil"
        return "ProxySettings(enabled: \(enabled), gateway: \(gatewayHost):\(gatewayPort), "
            + "username: \(user), password: \(password == nil ? "nil" : Redaction.mask), "
            + "useBackbone: \(useBackbone), maxConcurrency: \(maxConcurrency), "
            + "transcribeEnabled: \(optional(transcribeEnabled)), apiEnabled: \(optional(apiEnabled)))"
    }

    /// Same as ``description``: the password is redacted.
    public var debugDescription: String { description }

    /// A mirror whose `password` child is `***`, so `dump(settings)` does not leak it.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "enabled": enabled,
                "gatewayHost": gatewayHost,
                "gatewayPort": gatewayPort,
                "username": username as Any,
                "password": (password == nil ? "nil" : Redaction.mask) as Any,
                "useBackbone": useBackbone,
                "maxConcurrency": maxConcurrency,
                "transcribeEnabled": transcribeEnabled as Any,
                "apiEnabled": apiEnabled as Any,
            ],
            displayStyle: .struct
        )
    }
}

/// The placeholder shown instead of secrets.
enum Redaction {
    static let mask = "***"
}
