import Foundation

/// A rule of the metering listener that saves bandwidth: requests it matches are answered
/// locally (`block`) or sent straight to their target (`direct`), and never reach the gateway
/// (settings file key `rules`, `docs/proxy.md`).
///
/// ```json
/// {"rules": [{"name": "no-video", "components": ["transcribe-worker"],
///             "host": "*.googlevideo.com", "action": "block"}]}
/// ```
///
/// A rule matches a host glob (`*` any run of characters, `?` one; case-insensitive; against the
/// target host without its port) or, for plain HTTP only, a URL regular expression (searched in
/// the absolute URL). A CONNECT tunnel's URL is never seen, so `url` rules pass tunnels.
public struct TrafficRule: Sendable, Equatable {
    /// What a matching request gets.
    public enum Action: String, Sendable, Equatable, CaseIterable {
        /// `403` from the proxy itself, with `X-Proxy-Ledger-Reason: blocked_by_rule`; nothing is
        /// billed, and a zero-byte event with `error_type` `blocked_by_rule` records the refusal.
        case block
        /// The proxy connects to the target itself, bypassing the gateway: nothing is billed,
        /// and the event (`proxied` false, with `rule`) keeps the bytes that crossed.
        case direct
    }

    /// The rule's name, recorded on the events it refuses (`rule`).
    public var name: String
    /// The components it applies to; `nil` = every component.
    public var components: [String]?
    /// The host glob, e.g. `*.googlevideo.com`.
    public var host: String?
    /// The URL regular expression (plain HTTP only).
    public var url: String? { didSet { urlPattern = url.flatMap(URLPattern.init) } }
    /// `url` compiled once, not per request; `nil` when it does not compile (``SettingsFile``
    /// refuses such a rule).
    private var urlPattern: URLPattern?
    /// What a match gets.
    public var action: Action

    /// Creates a rule; give exactly one of `host` and `url` (``SettingsFile`` checks this).
    public init(name: String, components: [String]? = nil, host: String? = nil, url: String? = nil, action: Action) {
        self.name = name
        self.components = components
        self.host = host
        self.url = url
        self.action = action
        urlPattern = url.flatMap(URLPattern.init)
    }

    /// Whether the rule applies to `component`'s request for `targetHost` (and, for a plain
    /// request, `url`).
    public func matches(component: String, targetHost: String, url requestURL: String?) -> Bool {
        if let components, !components.contains(component) { return false }
        if let host { return Self.glob(host.lowercased(), matches: targetHost.lowercased()) }
        guard let urlPattern, let requestURL else { return false }
        return (try? urlPattern.regex.firstMatch(in: requestURL)) != nil
    }

    /// The first rule of `rules` that applies, or `nil`.
    public static func first(in rules: [TrafficRule], component: String, targetHost: String, url: String?) -> TrafficRule? {
        rules.first { $0.matches(component: component, targetHost: targetHost, url: url) }
    }

    /// Glob matching with `*` and `?` over characters.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let pattern = Array(pattern), text = Array(text)
        var p = 0, t = 0, star = -1, resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                resume = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}

/// A compiled URL expression; two are equal when their sources are.
///
/// `@unchecked Sendable`: a `Regex` is an immutable value whose compiled program is built once,
/// atomically; only its match results (`AnyRegexOutput`, made per call) hold non-Sendable values.
private struct URLPattern: @unchecked Sendable, Equatable {
    let source: String
    let regex: Regex<AnyRegexOutput>

    init?(_ source: String) {
        guard let regex = try? Regex(source) else { return nil }
        self.source = source
        self.regex = regex
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.source == rhs.source }
}
