import Configuration
import Foundation

extension ProxySettings {
    /// The environment variables that ``fromEnvironment(_:)`` reads.
    public enum Variable {
        /// `PROXY_ENABLED`: boolean, default `false`.
        public static let enabled = "PROXY_ENABLED"
        /// `PROXY_GATEWAY_HOST`: host name, default `p.webshare.io`.
        public static let gatewayHost = "PROXY_GATEWAY_HOST"
        /// `PROXY_GATEWAY_PORT`: integer `1...65535`, default `80`.
        public static let gatewayPort = "PROXY_GATEWAY_PORT"
        /// `PROXY_USERNAME`: the Webshare proxy username.
        public static let username = "PROXY_USERNAME"
        /// `PROXY_PASSWORD`: the Webshare proxy password (secret).
        public static let password = "PROXY_PASSWORD"
        /// `PROXY_USE_BACKBONE`: boolean, default `true`.
        public static let useBackbone = "PROXY_USE_BACKBONE"
        /// `PROXY_MAX_CONCURRENCY`: integer `>= 0`, default `0` (unlimited).
        public static let maxConcurrency = "PROXY_MAX_CONCURRENCY"
        /// `TRANSCRIBE_PROXY_ENABLED`: boolean override for the transcribe worker.
        public static let transcribeEnabled = "TRANSCRIBE_PROXY_ENABLED"
        /// `API_PROXY_ENABLED`: boolean override for the API service.
        public static let apiEnabled = "API_PROXY_ENABLED"
    }

    /// Reads the settings from environment variables.
    ///
    /// The values are read through swift-configuration: a `ConfigReader` over an
    /// `EnvironmentVariablesProvider`, with `PROXY_PASSWORD` marked secret so that access
    /// logs redact it. Parsing is ours, so that every error names its variable:
    /// - An empty or all-whitespace value counts as unset.
    /// - Booleans accept `true`/`false`/`1`/`0`/`yes`/`no` in any case, trimmed of whitespace.
    /// - `PROXY_GATEWAY_PORT` must be an integer in `1...65535`; `PROXY_MAX_CONCURRENCY` an
    ///   integer `>= 0`.
    /// - `PROXY_USERNAME` and `PROXY_PASSWORD` are taken verbatim (not trimmed), and must not
    ///   hold control characters (a CR or newline from a secrets file would make every request a
    ///   407); the username must not hold a colon.
    ///
    /// Credentials are not required here; ``ProxyService/init(settings:component:)`` requires
    /// them for a component that has the proxy enabled.
    ///
    /// - Parameter environment: The variables to read; defaults to the process environment.
    /// - Returns: The settings, with defaults for unset variables.
    /// - Throws: ``ProxyConfigurationError`` with code ``ProxyConfigurationError/Code/invalidBoolean``,
    ///   ``ProxyConfigurationError/Code/invalidPort``, ``ProxyConfigurationError/Code/invalidConcurrency``
    ///   or ``ProxyConfigurationError/Code/invalidCredential``, naming the variable. The password's
    ///   value never appears in an error.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ProxyConfigurationError) -> ProxySettings {
        let reader = EnvironmentReader(environment)
        var settings = ProxySettings()
        settings.enabled = try reader.bool(Variable.enabled, key: "proxy.enabled") ?? settings.enabled
        settings.gatewayHost = reader.trimmed(Variable.gatewayHost, key: "proxy.gatewayHost") ?? settings.gatewayHost
        if let port = reader.trimmed(Variable.gatewayPort, key: "proxy.gatewayPort") {
            guard let value = Int(port), (1...65535).contains(value) else {
                throw .invalidPort(variable: Variable.gatewayPort, value: port)
            }
            settings.gatewayPort = value
        }
        settings.username = reader.verbatim(Variable.username, key: "proxy.username", isSecret: false)
        settings.password = reader.verbatim(Variable.password, key: "proxy.password", isSecret: true)
        try checkCredential(settings.username, variable: Variable.username, allowsColon: false)
        try checkCredential(settings.password, variable: Variable.password, allowsColon: true)
        settings.useBackbone = try reader.bool(Variable.useBackbone, key: "proxy.useBackbone") ?? settings.useBackbone
        if let limit = reader.trimmed(Variable.maxConcurrency, key: "proxy.maxConcurrency") {
            guard let value = Int(limit), value >= 0 else {
                throw .invalidConcurrency(variable: Variable.maxConcurrency, value: limit)
            }
            settings.maxConcurrency = value
        }
        settings.transcribeEnabled = try reader.bool(Variable.transcribeEnabled, key: "transcribe.proxy.enabled")
        settings.apiEnabled = try reader.bool(Variable.apiEnabled, key: "api.proxy.enabled")
        return settings
    }

    /// Throws when `value` holds a character a Basic credential cannot carry.
    static func checkCredential(
        _ value: String?, variable: String, allowsColon: Bool
    ) throws(ProxyConfigurationError) {
        guard let value else { return }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidCredential(variable: variable, problem: "contains a control character (such as a CR or newline)")
        }
        if !allowsColon, value.contains(":") {
            throw .invalidCredential(variable: variable, problem: "contains a colon")
        }
    }

    /// The names of the variables in `environment` that a child process must not inherit: every
    /// `PROXY_*` variable, `PROXY_PASSWORD` above all. yt-dlp reaches the gateway through the
    /// metering proxy's one-time credential, and the lab's Squid and htpasswd get the password
    /// on stdin, so none of them needs these; an inherited password would be readable in
    /// `/proc/<pid>/environ` and `ps e` output.
    ///
    /// - Parameter environment: The parent's environment; defaults to the process environment.
    /// - Returns: The variable names to remove, sorted.
    public static func variablesHiddenFromChildren(
        in environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        environment.keys.filter(isHiddenFromChildren).sorted()
    }

    /// `environment` without the variables of ``variablesHiddenFromChildren(in:)``, for a child
    /// started with Foundation's `Process` (`process.environment = …`).
    public static func childEnvironment(
        from environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String: String] {
        environment.filter { !isHiddenFromChildren($0.key) }
    }

    /// Every `PROXY_*` variable is kept from children.
    private static func isHiddenFromChildren(_ name: String) -> Bool { name.hasPrefix("PROXY_") }

    /// Parses a boolean the way ``fromEnvironment(_:)`` does.
    ///
    /// - Returns: The value, or `nil` when `text` is empty or whitespace (unset).
    /// - Throws: ``ProxyConfigurationError/Code/invalidBoolean`` naming `variable`.
    static func parseBoolean(_ text: String, variable: String) throws(ProxyConfigurationError) -> Bool? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch trimmed.lowercased() {
        case "": return nil
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw .invalidBoolean(variable: variable, value: trimmed)
        }
    }
}

/// Reads raw strings through swift-configuration and leaves the parsing to the caller.
private struct EnvironmentReader {
    let config: ConfigReader

    init(_ environment: [String: String]) {
        let provider = EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .specific([ProxySettings.Variable.password])
        )
        config = ConfigReader(provider: provider)
    }

    /// Looks up `key`; swift-configuration encodes it as `variable` (`proxy.gatewayHost` → `PROXY_GATEWAY_HOST`).
    func raw(_ variable: String, key: ConfigKey, isSecret: Bool) -> String? {
        config.string(forKey: key, isSecret: isSecret)
    }

    /// The value without surrounding whitespace; `nil` when unset or blank.
    func trimmed(_ variable: String, key: ConfigKey) -> String? {
        guard let text = raw(variable, key: key, isSecret: false) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The value exactly as set; `nil` when unset or empty.
    func verbatim(_ variable: String, key: ConfigKey, isSecret: Bool) -> String? {
        guard let text = raw(variable, key: key, isSecret: isSecret), !text.isEmpty else { return nil }
        return text
    }

    /// A boolean; `nil` when unset or blank.
    func bool(_ variable: String, key: ConfigKey) throws(ProxyConfigurationError) -> Bool? {
        guard let text = raw(variable, key: key, isSecret: false) else { return nil }
        return try ProxySettings.parseBoolean(text, variable: variable)
    }
}
