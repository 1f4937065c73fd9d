import Foundation
import Testing

@testable import ProxyGateway

@Suite("ProxySettings from the environment")
struct ProxySettingsTests {
    static let secret = "s3cr3t-P@ss:w/rd%#?"

    @Test("unset and empty variables give the documented defaults")
    func defaults() throws {
        let expected = ProxySettings(
            enabled: false, gatewayHost: "p.webshare.io", gatewayPort: 80, username: nil, password: nil,
            useBackbone: true, maxConcurrency: 0, transcribeEnabled: nil, apiEnabled: nil
        )
        #expect(try ProxySettings.fromEnvironment([:]) == expected)
        #expect(ProxySettings() == expected)
        let empty = [
            "PROXY_ENABLED", "PROXY_GATEWAY_HOST", "PROXY_GATEWAY_PORT", "PROXY_USERNAME", "PROXY_PASSWORD",
            "PROXY_USE_BACKBONE", "PROXY_MAX_CONCURRENCY", "TRANSCRIBE_PROXY_ENABLED", "API_PROXY_ENABLED",
        ].reduce(into: [String: String]()) { $0[$1] = "" }
        #expect(try ProxySettings.fromEnvironment(empty) == expected)
    }

    @Test("every variable is read")
    func readsEveryVariable() throws {
        let settings = try ProxySettings.fromEnvironment([
            "PROXY_ENABLED": "true", "PROXY_GATEWAY_HOST": " gw.example.test ", "PROXY_GATEWAY_PORT": "3128",
            "PROXY_USERNAME": "alice", "PROXY_PASSWORD": " pw ", "PROXY_USE_BACKBONE": "no",
            "PROXY_MAX_CONCURRENCY": "8", "TRANSCRIBE_PROXY_ENABLED": "0", "API_PROXY_ENABLED": "YES",
        ])
        #expect(
            settings
                == ProxySettings(
                    enabled: true, gatewayHost: "gw.example.test", gatewayPort: 3128, username: "alice",
                    password: " pw ", useBackbone: false, maxConcurrency: 8, transcribeEnabled: false,
                    apiEnabled: true
                )
        )
    }

    @Test("the default argument reads the process environment")
    func processEnvironment() throws {
        let fromProcess = try? ProxySettings.fromEnvironment()
        let explicit = try? ProxySettings.fromEnvironment(ProcessInfo.processInfo.environment)
        #expect(fromProcess == explicit)
    }

    static let spellings: [(String, Bool)] = [
        ("true", true), ("TRUE", true), ("True", true), ("1", true), ("yes", true), ("YES", true), ("Yes", true),
        (" true\n", true), ("\tyes ", true),
        ("false", false), ("FALSE", false), ("False", false), ("0", false), ("no", false), ("NO", false),
        ("No", false), (" 0 ", false),
    ]

    @Test("booleans accept true/false/1/0/yes/no in any case, trimmed", arguments: spellings)
    func booleanSpellings(text: String, value: Bool) throws {
        for variable in ["PROXY_ENABLED", "PROXY_USE_BACKBONE", "TRANSCRIBE_PROXY_ENABLED", "API_PROXY_ENABLED"] {
            let settings = try ProxySettings.fromEnvironment([variable: text])
            switch variable {
            case "PROXY_ENABLED": #expect(settings.enabled == value)
            case "PROXY_USE_BACKBONE": #expect(settings.useBackbone == value)
            case "TRANSCRIBE_PROXY_ENABLED": #expect(settings.transcribeEnabled == value)
            default: #expect(settings.apiEnabled == value)
            }
        }
    }

    @Test(
        "a bad boolean names the variable and the accepted values",
        arguments: ["PROXY_ENABLED", "PROXY_USE_BACKBONE", "TRANSCRIBE_PROXY_ENABLED", "API_PROXY_ENABLED"],
        ["maybe", "on", "2", "t", "y"]
    )
    func badBoolean(variable: String, text: String) {
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment([variable: text, "PROXY_PASSWORD": Self.secret])
        }
        #expect(error?.code == .invalidBoolean)
        #expect(error?.variable == variable)
        #expect(error?.description.contains(variable) == true)
        #expect(error?.description.contains("true/false/1/0/yes/no") == true)
        #expect(error?.description.contains(Self.secret) == false)
    }

    @Test("a bad port names PROXY_GATEWAY_PORT", arguments: ["0", "65536", "-1", "http", "80x", "1e3"])
    func badPort(text: String) {
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment(["PROXY_GATEWAY_PORT": text])
        }
        #expect(error?.code == .invalidPort)
        #expect(error?.variable == "PROXY_GATEWAY_PORT")
        #expect(error?.description.contains("PROXY_GATEWAY_PORT") == true)
        #expect(error?.description.contains("1...65535") == true)
    }

    @Test("ports 1 and 65535 are accepted")
    func portBounds() throws {
        #expect(try ProxySettings.fromEnvironment(["PROXY_GATEWAY_PORT": "1"]).gatewayPort == 1)
        #expect(try ProxySettings.fromEnvironment(["PROXY_GATEWAY_PORT": "65535"]).gatewayPort == 65535)
    }

    @Test("a bad concurrency names PROXY_MAX_CONCURRENCY", arguments: ["-1", "-100", "many", "1.5"])
    func badConcurrency(text: String) {
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment(["PROXY_MAX_CONCURRENCY": text])
        }
        #expect(error?.code == .invalidConcurrency)
        #expect(error?.variable == "PROXY_MAX_CONCURRENCY")
        #expect(error?.description.contains("PROXY_MAX_CONCURRENCY") == true)
    }

    @Test(
        "a control character in a credential is refused without echoing it",
        arguments: [("PROXY_PASSWORD", "s3cret\r"), ("PROXY_PASSWORD", "line1\nline2"), ("PROXY_USERNAME", "user\t")])
    func controlCharacterInCredential(variable: String, value: String) {
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment([variable: value])
        }
        #expect(error?.code == .invalidCredential)
        #expect(error?.variable == variable)
        #expect(error?.description.contains("control character") == true)
        #expect(error?.description.contains(value) == false)
    }

    @Test("a colon is refused in the username but kept in the password")
    func colonInCredentials() throws {
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment(["PROXY_USERNAME": "us:er"])
        }
        #expect(error?.code == .invalidCredential)
        #expect(try ProxySettings.fromEnvironment(["PROXY_PASSWORD": "p@ss:w/rd"]).password == "p@ss:w/rd")
    }

    @Test("children are not given the PROXY_* variables")
    func variablesHiddenFromChildren() {
        let hidden = ProxySettings.variablesHiddenFromChildren(
            in: ["PROXY_PASSWORD": "x", "PROXY_USERNAME": "u", "PATH": "/bin", "HOME": "/root", "PROXY_ENABLED": "1"])
        #expect(hidden == ["PROXY_ENABLED", "PROXY_PASSWORD", "PROXY_USERNAME"])
        let kept = ProxySettings.childEnvironment(from: ["PROXY_PASSWORD": "x", "PATH": "/bin", "HOME": "/root"])
        #expect(kept == ["PATH": "/bin", "HOME": "/root"])
    }

    @Test("description, debugDescription and dump never contain the password")
    func redaction() throws {
        let settings = try ProxySettings.fromEnvironment([
            "PROXY_ENABLED": "1", "PROXY_USERNAME": "alice", "PROXY_PASSWORD": Self.secret,
        ])
        #expect(settings.password == Self.secret)
        var dumped = ""
        dump(settings, to: &dumped)
        for text in [
            settings.description, settings.debugDescription, "\(settings)", String(reflecting: settings), dumped,
        ] {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains("s3cr3t"))
            #expect(text.contains("***"))
        }
        #expect(settings.description.contains("alice"))
        #expect(ProxySettings().description.contains("password: nil"))
    }

    @Test("per-component overrides win over PROXY_ENABLED")
    func componentOverrides() throws {
        let off = try ProxySettings.fromEnvironment(["PROXY_ENABLED": "false", "TRANSCRIBE_PROXY_ENABLED": "true"])
        #expect(off.isEnabled(for: .transcribe))
        #expect(!off.isEnabled(for: .api))
        let on = try ProxySettings.fromEnvironment(["PROXY_ENABLED": "true", "API_PROXY_ENABLED": "false"])
        #expect(on.isEnabled(for: .transcribe))
        #expect(!on.isEnabled(for: .api))
        let follow = try ProxySettings.fromEnvironment(["PROXY_ENABLED": "yes"])
        #expect(ProxyComponent.allCases.allSatisfy(follow.isEnabled(for:)))
        #expect(ProxyComponent.transcribe.rawValue == "transcribe-worker")
        #expect(ProxyComponent.api.rawValue == "api-youtube-service")
    }
}
