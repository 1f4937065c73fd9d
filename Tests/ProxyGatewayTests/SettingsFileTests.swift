import Foundation
import TestSupport
import Testing

@testable import ProxyGateway

@Suite("the JSON settings file")
struct SettingsFileTests {
    static let secret = "s3cr3t-P@ss:w/rd%#?"

    static func write(_ json: String, in directory: TemporaryDirectory, name: String = "config.json") throws -> String {
        let path = directory.file(name)
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func fileValuesOverrideTheEnvironmentAndTheRestFollowsIt() throws {
        let directory = try TemporaryDirectory("settings-file")
        try (Self.secret + "\n").write(toFile: directory.file("password"), atomically: true, encoding: .utf8)
        let path = try Self.write(
            """
            {"proxy": {"enabled": true, "gateway_port": 3128, "username": "file-user", "password_file": "password",
                       "use_backbone": false, "max_concurrency": 20, "gateway_host": null},
             "components": {"transcribe-worker": {"proxy_enabled": false}, "api-youtube-service": {}}}
            """, in: directory)
        let settings = try ProxySettings.load(
            environment: [
                "PROXY_ENABLED": "false", "PROXY_GATEWAY_HOST": "env.example.test", "PROXY_GATEWAY_PORT": "80",
                "PROXY_USERNAME": "env-user", "PROXY_PASSWORD": "env-password", "API_PROXY_ENABLED": "true",
            ],
            configFile: path)
        #expect(
            settings
                == ProxySettings(
                    enabled: true, gatewayHost: "env.example.test", gatewayPort: 3128, username: "file-user",
                    password: Self.secret, useBackbone: false, maxConcurrency: 20, transcribeEnabled: false,
                    apiEnabled: true))
        #expect(try ProxySettings.load(environment: ["PROXY_GATEWAY_PORT": "81"], configFile: nil).gatewayPort == 81)
    }

    @Test(
        "an unknown key is an error naming it, with the near miss",
        arguments: [
            (#"{"proxxy": {}}"#, "proxxy", "proxy"),
            (#"{"proxy": {"gateway_prot": 80}}"#, "proxy.gateway_prot", "gateway_port"),
            (#"{"components": {"transcribe_worker": {}}}"#, "components.transcribe_worker", "transcribe-worker"),
            (#"{"components": {"api-youtube-service": {"enabled": true}}}"#, "components.api-youtube-service.enabled",
             "proxy_enabled"),
        ])
    func unknownKey(json: String, key: String, suggestion: String) throws {
        let directory = try TemporaryDirectory("settings-file")
        let path = try Self.write(json, in: directory)
        let error = #expect(throws: ProxyConfigurationError.self) { try ProxySettings.load(environment: [:], configFile: path) }
        #expect(error?.code == .unknownSetting)
        #expect(error?.description.contains("unknown key \"\(key)\" in \(path); did you mean \"\(suggestion)\"?") == true)
    }

    @Test func aFarMissGetsNoSuggestion() throws {
        let directory = try TemporaryDirectory("settings-file")
        let path = try Self.write(#"{"proxy": {"colour": "blue"}}"#, in: directory)
        let error = #expect(throws: ProxyConfigurationError.self) { try ProxySettings.load(environment: [:], configFile: path) }
        #expect(error?.code == .unknownSetting && error?.description.contains("did you mean") == false)
    }

    @Test(
        "a wrong JSON type or a bad value names the key and never echoes the password",
        arguments: [
            (#"{"proxy": {"enabled": "yes"}}"#, ProxyConfigurationError.Code.invalidSettingsFile, "proxy.enabled"),
            (#"{"proxy": {"gateway_port": 1.5}}"#, .invalidSettingsFile, "proxy.gateway_port"),
            (#"{"proxy": {"gateway_port": 70000}}"#, .invalidPort, "proxy.gateway_port"),
            (#"{"proxy": {"max_concurrency": -1}}"#, .invalidConcurrency, "proxy.max_concurrency"),
            (#"{"proxy": {"password": 12345}}"#, .invalidSettingsFile, "proxy.password"),
            (#"{"proxy": {"password": "s3cr3t-P@ss\n"}}"#, .invalidCredential, "proxy.password"),
            (#"{"proxy": []}"#, .invalidSettingsFile, "proxy"),
        ])
    func badValue(json: String, code: ProxyConfigurationError.Code, key: String) throws {
        let directory = try TemporaryDirectory("settings-file")
        let path = try Self.write(json, in: directory)
        let error = #expect(throws: ProxyConfigurationError.self) { try ProxySettings.load(environment: [:], configFile: path) }
        #expect(error?.code == code)
        #expect(error?.variable == "\(key) in \(path)")
        #expect(error?.description.contains("s3cr3t") == false && error?.description.contains("12345") == false)
    }

    @Test func passwordAndPasswordFileInTheFileConflict() throws {
        let directory = try TemporaryDirectory("settings-file")
        let path = try Self.write(#"{"proxy": {"password": "s3cr3t", "password_file": "/x"}}"#, in: directory)
        let error = #expect(throws: ProxyConfigurationError.self) { try ProxySettings.load(environment: [:], configFile: path) }
        #expect(error?.code == .conflictingSettings)
        #expect(error?.description.contains("proxy.password in \(path) and proxy.password_file in \(path)") == true)
        #expect(error?.description.contains("s3cr3t") == false)
    }

    @Test func theFilesPasswordReplacesTheEnvironmentsPasswordFile() throws {
        let directory = try TemporaryDirectory("settings-file")
        let path = try Self.write(#"{"proxy": {"password": "from-file"}}"#, in: directory)
        let settings = try ProxySettings.load(
            environment: ["PROXY_PASSWORD_FILE": directory.file("absent")], configFile: path)
        #expect(settings.password == "from-file")
    }

    @Test func notJSONAndMissingFilesNameThePath() throws {
        let directory = try TemporaryDirectory("settings-file")
        let broken = try Self.write(#"{"proxy": {"password": "s3cr3t""#, in: directory)
        let syntax = #expect(throws: ProxyConfigurationError.self) { try ProxySettings.load(environment: [:], configFile: broken) }
        #expect(syntax?.code == .invalidSettingsFile && syntax?.description.contains(broken) == true)
        #expect(syntax?.description.contains("s3cr3t") == false)
        let missing = directory.file("absent.json")
        let absent = #expect(throws: ProxyConfigurationError.self) { try ProxySettings.load(environment: [:], configFile: missing) }
        #expect(absent?.code == .unreadableFile && absent?.description.contains(missing) == true)
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func theShippedExamplesAndDocsCoverEverySetting() throws {
        let example = Self.repository.appendingPathComponent("config.example.json").path
        let inputs = try SettingsFile.read(example).inputs
        let variables = SettingInputs.environmentKeys.map(\.variable)
        // Every setting but one of the two exclusive password sources is in the example.
        #expect(Set(inputs.keys) == Set(variables).subtracting([ProxySettings.Variable.password]))
        let env = try String(contentsOf: Self.repository.appendingPathComponent(".env.example"), encoding: .utf8)
        let docs = try String(
            contentsOf: Self.repository.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        for variable in variables {
            #expect(env.contains(variable), "\(variable) in .env.example")
            #expect(docs.contains("`\(variable)`"), "\(variable) in docs/configuration.md")
        }
        for entry in SettingsFile.proxyKeys { #expect(docs.contains("`proxy.\(entry.key)`"), "\(entry.key)") }
        for entry in SettingsFile.componentKeys {
            #expect(docs.contains("`components.\(entry.component.rawValue).proxy_enabled`"))
        }
    }

    @Test func nearMissDistance() {
        #expect(NearMiss.distance(Array("gateway_prot"), Array("gateway_port")) == 2)
        #expect(NearMiss.closest(to: "usename", among: ["username", "password"]) == "username")
        #expect(NearMiss.closest(to: "zzz", among: ["username"]) == nil)
    }
}
