/// An error in the proxy configuration: a malformed environment variable or settings-file key, a
/// settings or password file that cannot be read, or credentials that are missing although the
/// proxy is enabled.
///
/// `description` names the variable (or file key) and the values it accepts. It never contains
/// the password, from `PROXY_PASSWORD`, a password file or a settings file, so it is safe to log.
///
/// Modelled on NIO's `FileSystemError`: a struct with an extensible ``Code``, so that new codes do
/// not break callers that switch over them.
public struct ProxyConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong. A struct with static members, so new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String

        /// The code's stable snake_case name, for logs and JSON output.
        public var description: String { name }

        /// A boolean variable holds something other than `true`/`false`/`1`/`0`/`yes`/`no`.
        public static let invalidBoolean = Code(name: "invalid_boolean")
        /// `PROXY_GATEWAY_PORT` is not an integer in `1...65535`.
        public static let invalidPort = Code(name: "invalid_port")
        /// `PROXY_MAX_CONCURRENCY` is not an integer `>= 0`.
        public static let invalidConcurrency = Code(name: "invalid_concurrency")
        /// The proxy is enabled for a component but `PROXY_USERNAME` or `PROXY_PASSWORD` is unset.
        public static let missingCredentials = Code(name: "missing_credentials")
        /// `PROXY_USERNAME` or `PROXY_PASSWORD` holds a character Basic authentication cannot
        /// carry: a control character (such as a stray CR or newline from a secrets file) in
        /// either, or a colon in the username (RFC 7617 §2).
        public static let invalidCredential = Code(name: "invalid_credential")
        /// Two settings that exclude each other are both set (`PROXY_PASSWORD` and
        /// `PROXY_PASSWORD_FILE`, or `password` and `password_file` in a settings file).
        public static let conflictingSettings = Code(name: "conflicting_settings")
        /// A password file or settings file is missing or cannot be read; the message names its
        /// path and the system error, never its content.
        public static let unreadableFile = Code(name: "unreadable_file")
        /// A settings file is not a JSON object of the documented shape, or a key has the wrong
        /// JSON type.
        public static let invalidSettingsFile = Code(name: "invalid_settings_file")
        /// A settings file has a key that is not a setting; the message names it and, when one
        /// is close, the key that was probably meant.
        public static let unknownSetting = Code(name: "unknown_setting")
    }

    /// What went wrong.
    public var code: Code

    /// The setting at fault: an environment variable such as `"PROXY_GATEWAY_PORT"`, or a
    /// settings-file key with its file, such as `"proxy.gateway_port in /etc/proxy-ledger.json"`;
    /// `nil` when the error is not about one setting.
    public var variable: String?

    /// A human-readable explanation. Never contains the proxy password.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - variable: The environment variable at fault, if any.
    ///   - message: The explanation. Callers must not put secrets in it.
    public init(code: Code, variable: String?, message: String) {
        self.code = code
        self.variable = variable
        self.message = message
    }

    /// `"<code>: <message>"`, safe to log: never contains the proxy password.
    public var description: String {
        "\(code): \(message)"
    }
}

extension ProxyConfigurationError {
    /// A boolean variable could not be parsed. Echoes at most 32 characters of the bad value.
    static func invalidBoolean(variable: String, value: String) -> Self {
        Self(
            code: .invalidBoolean,
            variable: variable,
            message: "\(variable) must be one of true/false/1/0/yes/no (any case), got \(quoted(value))"
        )
    }

    /// The gateway port is not an integer in `1...65535`.
    static func invalidPort(variable: String?, value: String) -> Self {
        Self(
            code: .invalidPort,
            variable: variable,
            message: "\(variable ?? "gatewayPort") must be an integer in 1...65535, got \(quoted(value))"
        )
    }

    /// The concurrency limit is not an integer `>= 0`.
    static func invalidConcurrency(variable: String?, value: String) -> Self {
        Self(
            code: .invalidConcurrency,
            variable: variable,
            message: "\(variable ?? "maxConcurrency") must be an integer >= 0 (0 = unlimited), got \(quoted(value))"
        )
    }

    /// A credential holds a character Basic authentication cannot carry. Never echoes the value.
    static func invalidCredential(variable: String, problem: String) -> Self {
        Self(
            code: .invalidCredential,
            variable: variable,
            message: "\(variable) \(problem); Basic proxy authentication (RFC 7617) cannot carry it"
        )
    }

    /// Quotes a non-secret value for an error message, cut to 32 characters.
    private static func quoted(_ value: String) -> String {
        let limit = 32
        let cut = value.count > limit ? String(value.prefix(limit)) + "…" : value
        return "\"\(cut)\""
    }
}
