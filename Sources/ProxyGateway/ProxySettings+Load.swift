public import Foundation

extension ProxySettings {
    /// Reads the settings from the environment and, when given, a JSON settings file whose
    /// values override the environment's (format: ``SettingsFile``, keys in
    /// `docs/configuration.md`).
    ///
    /// ```swift
    /// let settings = try ProxySettings.load(configFile: "/etc/proxy-ledger/config.json")
    /// ```
    ///
    /// Every rule of ``fromEnvironment(_:)`` applies to the file's values too; an error about
    /// one names it as `proxy.gateway_port in FILE`. A file that sets `password` or
    /// `password_file` replaces both `PROXY_PASSWORD` and `PROXY_PASSWORD_FILE`; setting both
    /// keys in the file is an error. The password file is read here, once per call.
    ///
    /// - Parameters:
    ///   - environment: The variables to read; defaults to the process environment.
    ///   - configFile: The settings file's path, or `nil` for the environment alone.
    /// - Returns: The merged settings.
    /// - Throws: ``ProxyConfigurationError``: what ``fromEnvironment(_:)`` throws, and for the
    ///   file ``ProxyConfigurationError/Code/unreadableFile``,
    ///   ``ProxyConfigurationError/Code/invalidSettingsFile`` (not a JSON object of the
    ///   documented shape, a wrong JSON type) or ``ProxyConfigurationError/Code/unknownSetting``
    ///   naming the key and the nearest known one. No error contains the password.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment, configFile: String?
    ) throws(ProxyConfigurationError) -> ProxySettings {
        var inputs = SettingInputs(environment: environment)
        let contents = try configFile.map { path throws(ProxyConfigurationError) in try SettingsFile.read(path) }
        if let contents { inputs.overlay(contents.inputs) }
        var settings = try parse(inputs)
        settings.rules = contents?.rules ?? []
        return settings
    }
}
