/// The proxy route for one component: whether it is enabled, and the credentials and URL to use.
///
/// ```swift
/// let service = try ProxyService(settings: .fromEnvironment(), component: .transcribe)
/// guard service.isEnabled else { … }   // Workers meter the route and hand yt-dlp an options file
/// logger.info("proxy route", metadata: ["proxy.url": "\(service.maskedProxyURL ?? "disabled")"])
/// ```
///
/// The values that hold the password (``proxyURL``, ``ytDlpArguments()``) must never be logged
/// nor put on a command line; log ``maskedProxyURL`` instead. ``description`` is safe to log.
public struct ProxyService: Sendable {
    /// The settings this service was built from.
    public let settings: ProxySettings

    /// The component this route is for.
    public let component: ProxyComponent

    /// Whether `component` routes through the gateway (see ``ProxySettings/isEnabled(for:)``).
    public let isEnabled: Bool

    /// Creates the route for `component`.
    ///
    /// - Parameters:
    ///   - settings: The proxy settings, usually from ``ProxySettings/fromEnvironment(_:)``.
    ///   - component: The component that will use the route.
    /// - Throws: ``ProxyConfigurationError`` when the proxy is enabled for `component` and
    ///   `username` or `password` is unset or empty (``ProxyConfigurationError/Code/missingCredentials``,
    ///   naming `PROXY_USERNAME` or `PROXY_PASSWORD`), or `gatewayPort` is outside `1...65535`
    ///   (``ProxyConfigurationError/Code/invalidPort``); and, whether enabled or not, when
    ///   `maxConcurrency` is negative (``ProxyConfigurationError/Code/invalidConcurrency``).
    public init(settings: ProxySettings, component: ProxyComponent) throws(ProxyConfigurationError) {
        guard settings.maxConcurrency >= 0 else {
            throw .invalidConcurrency(
                variable: ProxySettings.Variable.maxConcurrency,
                value: String(settings.maxConcurrency)
            )
        }
        let enabled = settings.isEnabled(for: component)
        if enabled {
            guard (1...65535).contains(settings.gatewayPort) else {
                throw .invalidPort(variable: ProxySettings.Variable.gatewayPort, value: String(settings.gatewayPort))
            }
            for (value, variable) in [
                (settings.username, ProxySettings.Variable.username),
                (settings.password, ProxySettings.Variable.password),
            ] where value?.isEmpty ?? true {
                throw ProxyConfigurationError(
                    code: .missingCredentials,
                    variable: variable,
                    message: "the proxy is enabled for \(component.rawValue) but \(variable) is not set"
                )
            }
        }
        self.settings = settings
        self.component = component
        self.isEnabled = enabled
    }

    /// The maximum number of concurrent proxied jobs; `0` means unlimited.
    /// From `PROXY_MAX_CONCURRENCY`.
    public var maxConcurrency: Int { settings.maxConcurrency }

    /// The username sent to the gateway, or `nil` when the proxy is disabled.
    ///
    /// The backbone rule, from Webshare's "Proxy Connection" documentation
    /// (https://apidocs.webshare.io/proxy-connection): on the backbone gateway `p.webshare.io`,
    /// parameters are appended to the proxy username with hyphens
    /// (`{username}-{country_code}-{geo_params}-{session_id}`), and the `rotate` parameter
    /// (`{username}-rotate`, or `{username}-us-rotate` with a country) asks for a new exit IP on
    /// every request; it cannot be combined with a sticky session ID.
    ///
    /// - When ``ProxySettings/useBackbone`` is `true` (`PROXY_USE_BACKBONE`, the default), the
    ///   username sent is `<username>-rotate`. A username that already ends in `-rotate`
    ///   (case-sensitive, for example `myuser-us-rotate`) is sent unchanged, never as
    ///   `…-rotate-rotate`. The rule depends only on this flag, not on ``ProxySettings/gatewayHost``.
    /// - When it is `false` (direct connection mode), the username is sent exactly as configured,
    ///   so any Webshare parameters (country, session ID) must already be in `PROXY_USERNAME`.
    public var gatewayUsername: String? {
        guard isEnabled, let username = settings.username else { return nil }
        return Self.applyBackboneRule(to: username, useBackbone: settings.useBackbone)
    }

    /// The proxy URL, `http://USER:PASS@host:port`, or `nil` when the proxy is disabled.
    ///
    /// `USER` is ``gatewayUsername``. Both user and password are percent-encoded exactly once
    /// as RFC 3986 userinfo (§3.2.1): every byte except the unreserved `A-Z a-z 0-9 - . _ ~`
    /// becomes `%XX`, so `p@ss:w/rd%` is `p%40ss%3Aw%2Frd%25`, and percent-decoding gives back
    /// the originals. An IPv6 literal host is bracketed. Contains the password: never log it.
    public var proxyURL: String? {
        makeURL(password: settings.password.map(PercentEncoding.encodeUserinfo))
    }

    /// ``proxyURL`` with the password replaced by `***`; safe to log. `nil` when disabled.
    public var maskedProxyURL: String? {
        makeURL(password: Redaction.mask)
    }

    /// The yt-dlp options that route it through the gateway: `["--proxy", proxyURL]`, or `[]`
    /// when the proxy is disabled.
    ///
    /// - Important: Never pass them on yt-dlp's command line: a process's argv is readable by
    ///   every local user (`/proc/<pid>/cmdline`, `ps`). Write them to an options file only the
    ///   worker's user can read and pass `--config-locations FILE`, as the Workers module does
    ///   (which also points yt-dlp at a metering proxy whose URL holds a one-time token rather
    ///   than this password).
    /// - Returns: The options. They contain the password: never log them.
    public func ytDlpArguments() -> [String] {
        guard let proxyURL else { return [] }
        return ["--proxy", proxyURL]
    }

    /// `host:port` for libcurl's `CURLOPT_PROXY`, with an IPv6 literal bracketed.
    var hostAndPort: String {
        let host = settings.gatewayHost
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(bracketed):\(settings.gatewayPort)"
    }

    private func makeURL(password: String?) -> String? {
        guard let username = gatewayUsername, let password else { return nil }
        return "http://\(PercentEncoding.encodeUserinfo(username)):\(password)@\(hostAndPort)"
    }

    /// Applies the backbone rule described at ``gatewayUsername``.
    static func applyBackboneRule(to username: String, useBackbone: Bool) -> String {
        guard useBackbone, !username.hasSuffix(rotateSuffix) else { return username }
        return username + rotateSuffix
    }

    private static let rotateSuffix = "-rotate"
}

extension ProxyService: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The component and masked URL (or `disabled`); safe to log.
    public var description: String {
        "ProxyService(\(component.rawValue), \(maskedProxyURL ?? "disabled"))"
    }

    /// Same as ``description``: the password is redacted.
    public var debugDescription: String { description }

    /// A mirror without secrets, so `dump(service)` does not leak the password.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "component": component,
                "isEnabled": isEnabled,
                "maskedProxyURL": maskedProxyURL as Any,
                "settings": settings,
            ],
            displayStyle: .struct
        )
    }
}
