import Configuration
public import Foundation

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
        /// `PROXY_PASSWORD_FILE`: the path of a file holding the password (read once, one
        /// trailing newline removed); excludes `PROXY_PASSWORD`.
        public static let passwordFile = "PROXY_PASSWORD_FILE"
        /// `PROXY_USE_BACKBONE`: boolean, default `true`.
        public static let useBackbone = "PROXY_USE_BACKBONE"
        /// `PROXY_MAX_CONCURRENCY`: integer `>= 0`, default `0` (unlimited).
        public static let maxConcurrency = "PROXY_MAX_CONCURRENCY"
        /// `TRANSCRIBE_PROXY_ENABLED`: boolean override for the transcribe worker.
        public static let transcribeEnabled = "TRANSCRIBE_PROXY_ENABLED"
        /// `API_PROXY_ENABLED`: boolean override for the API service.
        public static let apiEnabled = "API_PROXY_ENABLED"
    }

    /// The largest password file read, in bytes (64 KiB); a bigger file is refused as unreadable.
    public static let passwordFileLimit = 64 * 1024

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
    /// - `PROXY_PASSWORD_FILE` names a file (UTF-8, at most ``passwordFileLimit`` bytes) that is
    ///   read once, here; one trailing `\n` or `\r\n` is removed and the rest is the password,
    ///   under the same rules as `PROXY_PASSWORD`. Setting both is an error.
    ///
    /// Credentials are not required here; ``ProxyService/init(settings:component:)`` requires
    /// them for a component that has the proxy enabled.
    ///
    /// - Parameter environment: The variables to read; defaults to the process environment.
    /// - Returns: The settings, with defaults for unset variables.
    /// - Throws: ``ProxyConfigurationError`` with code ``ProxyConfigurationError/Code/invalidBoolean``,
    ///   ``ProxyConfigurationError/Code/invalidPort``, ``ProxyConfigurationError/Code/invalidConcurrency``
    ///   or ``ProxyConfigurationError/Code/invalidCredential``, naming the variable;
    ///   ``ProxyConfigurationError/Code/conflictingSettings`` naming `PROXY_PASSWORD` and
    ///   `PROXY_PASSWORD_FILE` when both are set; ``ProxyConfigurationError/Code/unreadableFile``
    ///   naming the password file's path when it cannot be read. The password never appears in
    ///   an error.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ProxyConfigurationError) -> ProxySettings {
        try parse(SettingInputs(environment: environment))
    }

    /// Parses raw inputs (environment, maybe overlaid by a settings file) into settings.
    static func parse(_ inputs: SettingInputs) throws(ProxyConfigurationError) -> ProxySettings {
        var settings = ProxySettings()
        settings.enabled = try inputs.bool(Variable.enabled) ?? settings.enabled
        settings.gatewayHost = inputs.trimmed(Variable.gatewayHost)?.text ?? settings.gatewayHost
        if let port = inputs.trimmed(Variable.gatewayPort) {
            guard let value = Int(port.text), (1...65535).contains(value) else {
                throw .invalidPort(variable: port.name, value: port.text)
            }
            settings.gatewayPort = value
        }
        try parseCredentials(inputs, into: &settings)
        settings.useBackbone = try inputs.bool(Variable.useBackbone) ?? settings.useBackbone
        if let limit = inputs.trimmed(Variable.maxConcurrency) {
            guard let value = Int(limit.text), value >= 0 else {
                throw .invalidConcurrency(variable: limit.name, value: limit.text)
            }
            settings.maxConcurrency = value
        }
        settings.transcribeEnabled = try inputs.bool(Variable.transcribeEnabled)
        settings.apiEnabled = try inputs.bool(Variable.apiEnabled)
        return settings
    }

    /// The username, and the password from its value or its file.
    private static func parseCredentials(
        _ inputs: SettingInputs, into settings: inout ProxySettings
    ) throws(ProxyConfigurationError) {
        let username = inputs.verbatim(Variable.username)
        settings.username = username?.text
        try checkCredential(username?.text, variable: username?.name ?? Variable.username, allowsColon: false)
        let password = inputs.verbatim(Variable.password)
        guard let file = inputs.trimmed(Variable.passwordFile) else {
            settings.password = password?.text
            try checkCredential(password?.text, variable: password?.name ?? Variable.password, allowsColon: true)
            return
        }
        if let password {
            throw ProxyConfigurationError(
                code: .conflictingSettings, variable: file.name,
                message: "\(password.name) and \(file.name) are both set; set only one of them")
        }
        settings.password = try readPasswordFile(file)
        try checkCredential(settings.password, variable: file.name, allowsColon: true)
    }

    /// The password in the file `input` names: its text without one trailing `\n` or `\r\n`;
    /// `nil` when nothing is left.
    private static func readPasswordFile(_ input: SettingInput) throws(ProxyConfigurationError) -> String? {
        let text = try FileText.read(input.text, limit: passwordFileLimit, setting: input.name, trimmingNewline: true)
        return text.isEmpty ? nil : text
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

/// One raw setting: its text and the name errors give it (an environment variable, or a
/// settings-file key with its file).
struct SettingInput: Sendable, Equatable {
    var text: String
    var name: String
}

/// The raw settings by environment variable name: read from the environment, then overlaid by
/// a settings file (see ``ProxySettings/load(environment:configFile:)``).
struct SettingInputs: Sendable {
    var values: [String: SettingInput] = [:]

    /// Every variable of ``ProxySettings/Variable``, its swift-configuration key, and whether it is secret.
    static let environmentKeys: [(variable: String, key: ConfigKey, isSecret: Bool)] = [
        (ProxySettings.Variable.enabled, "proxy.enabled", false),
        (ProxySettings.Variable.gatewayHost, "proxy.gatewayHost", false),
        (ProxySettings.Variable.gatewayPort, "proxy.gatewayPort", false),
        (ProxySettings.Variable.username, "proxy.username", false),
        (ProxySettings.Variable.password, "proxy.password", true),
        (ProxySettings.Variable.passwordFile, "proxy.passwordFile", false),
        (ProxySettings.Variable.useBackbone, "proxy.useBackbone", false),
        (ProxySettings.Variable.maxConcurrency, "proxy.maxConcurrency", false),
        (ProxySettings.Variable.transcribeEnabled, "transcribe.proxy.enabled", false),
        (ProxySettings.Variable.apiEnabled, "api.proxy.enabled", false),
    ]

    init() {}

    /// Reads every variable through swift-configuration: a `ConfigReader` over an
    /// `EnvironmentVariablesProvider` that marks `PROXY_PASSWORD` secret (`proxy.gatewayHost`
    /// is encoded as `PROXY_GATEWAY_HOST`).
    init(environment: [String: String]) {
        let provider = EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .specific([ProxySettings.Variable.password])
        )
        let config = ConfigReader(provider: provider)
        for entry in Self.environmentKeys {
            if let text = config.string(forKey: entry.key, isSecret: entry.isSecret) {
                values[entry.variable] = SettingInput(text: text, name: entry.variable)
            }
        }
    }

    /// Replaces values with the settings file's. A file that sets the password or the password
    /// file replaces both of the environment's, so that the file's choice of source wins.
    mutating func overlay(_ file: [String: SettingInput]) {
        let passwordSources = [ProxySettings.Variable.password, ProxySettings.Variable.passwordFile]
        if passwordSources.contains(where: { file[$0] != nil }) {
            for variable in passwordSources { values[variable] = nil }
        }
        values.merge(file) { _, new in new }
    }

    /// The value without surrounding whitespace; `nil` when unset or blank.
    func trimmed(_ variable: String) -> SettingInput? {
        guard var input = values[variable] else { return nil }
        input.text = input.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return input.text.isEmpty ? nil : input
    }

    /// The value exactly as set; `nil` when unset or empty.
    func verbatim(_ variable: String) -> SettingInput? {
        guard let input = values[variable], !input.text.isEmpty else { return nil }
        return input
    }

    /// A boolean; `nil` when unset or blank.
    func bool(_ variable: String) throws(ProxyConfigurationError) -> Bool? {
        guard let input = values[variable] else { return nil }
        return try ProxySettings.parseBoolean(input.text, variable: input.name)
    }
}
