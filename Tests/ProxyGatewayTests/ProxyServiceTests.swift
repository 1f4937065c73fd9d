import Foundation
import Testing

@testable import ProxyGateway

@Suite("ProxyService")
struct ProxyServiceTests {
    static let password = "p@ss:w/rd%#?x"
    static let username = "team@example"

    static func settings(
        useBackbone: Bool = true,
        username: String? = ProxyServiceTests.username,
        password: String? = ProxyServiceTests.password
    ) -> ProxySettings {
        ProxySettings(enabled: true, username: username, password: password, useBackbone: useBackbone)
    }

    @Test("the proxy URL percent-encodes userinfo once and decodes back to the originals")
    func percentEncodingRoundTrip() throws {
        let service = try ProxyService(settings: Self.settings(useBackbone: false), component: .transcribe)
        let url = try #require(service.proxyURL)
        #expect(url == "http://team%40example:p%40ss%3Aw%2Frd%25%23%3Fx@p.webshare.io:80")
        let components = try #require(URLComponents(string: url))
        #expect(components.user == Self.username)
        #expect(components.password == Self.password)
        #expect(components.host == "p.webshare.io")
        #expect(components.port == 80)
        #expect(components.percentEncodedPassword?.contains("%25") == true)
        #expect(components.percentEncodedPassword?.contains("%2525") == false)
    }

    @Test("unreserved characters stay; everything else, including UTF-8, is encoded")
    func encodingAlphabet() {
        #expect(PercentEncoding.encodeUserinfo("AZaz09-._~") == "AZaz09-._~")
        #expect(PercentEncoding.encodeUserinfo(" !$&'()*+,;=[]") == "%20%21%24%26%27%28%29%2A%2B%2C%3B%3D%5B%5D")
        #expect(PercentEncoding.encodeUserinfo("é") == "%C3%A9")
        #expect(PercentEncoding.encodeUserinfo("%41") == "%2541")
    }

    @Test("the masked URL hides the password and keeps the rest")
    func maskedURL() throws {
        let service = try ProxyService(settings: Self.settings(), component: .api)
        #expect(service.maskedProxyURL == "http://team%40example-rotate:***@p.webshare.io:80")
        for text in [service.maskedProxyURL ?? "", service.description, String(reflecting: service)] {
            #expect(!text.contains("p@ss"))
            #expect(!text.contains("p%40ss"))
        }
        var dumped = ""
        dump(service, to: &dumped)
        #expect(!dumped.contains("p@ss"))
        #expect(!dumped.contains("p%40ss"))
    }

    @Test("backbone on: the username gets -rotate, once")
    func backboneOn() throws {
        let plain = try ProxyService(settings: Self.settings(username: "abcdefgh"), component: .transcribe)
        #expect(plain.gatewayUsername == "abcdefgh-rotate")
        #expect(plain.proxyURL?.hasPrefix("http://abcdefgh-rotate:") == true)
        let suffixed = try ProxyService(settings: Self.settings(username: "abcdefgh-rotate"), component: .transcribe)
        #expect(suffixed.gatewayUsername == "abcdefgh-rotate")
        let country = try ProxyService(settings: Self.settings(username: "abcdefgh-us-rotate"), component: .api)
        #expect(country.gatewayUsername == "abcdefgh-us-rotate")
    }

    @Test("backbone off: the username is used as given")
    func backboneOff() throws {
        for name in ["abcdefgh", "abcdefgh-us-1234", "abcdefgh-rotate"] {
            let service = try ProxyService(
                settings: Self.settings(useBackbone: false, username: name),
                component: .transcribe
            )
            #expect(service.gatewayUsername == name)
        }
    }

    @Test(
        "missing credentials are an error when enabled",
        arguments: [
            (nil, "pw", "PROXY_USERNAME"), ("", "pw", "PROXY_USERNAME"), ("user", nil, "PROXY_PASSWORD"),
            ("user", "", "PROXY_PASSWORD"), (nil, nil, "PROXY_USERNAME"),
        ] as [(String?, String?, String)]
    )
    func missingCredentials(username: String?, password: String?, variable: String) {
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxyService(settings: Self.settings(username: username, password: password), component: .transcribe)
        }
        #expect(error?.code == .missingCredentials)
        #expect(error?.variable == variable)
        #expect(error?.description.contains(variable) == true)
        #expect(error?.description.contains("transcribe-worker") == true)
    }

    @Test("missing credentials are fine when the component has the proxy disabled")
    func disabledNeedsNoCredentials() throws {
        let settings = ProxySettings(enabled: true, apiEnabled: false)
        let service = try ProxyService(settings: settings, component: .api)
        #expect(!service.isEnabled)
        #expect(service.proxyURL == nil)
        #expect(service.maskedProxyURL == nil)
        #expect(service.gatewayUsername == nil)
        #expect(service.ytDlpArguments().isEmpty)
        #expect(service.description.contains("disabled"))
        #expect(throws: ProxyConfigurationError.self) { try ProxyService(settings: settings, component: .transcribe) }
    }

    @Test("per-component overrides decide isEnabled")
    func componentOverrides() throws {
        let settings = ProxySettings(
            enabled: false, username: "u", password: "p", transcribeEnabled: true, apiEnabled: nil
        )
        #expect(try ProxyService(settings: settings, component: .transcribe).isEnabled)
        #expect(try !ProxyService(settings: settings, component: .api).isEnabled)
        var inverse = settings
        inverse.enabled = true
        inverse.transcribeEnabled = false
        #expect(try !ProxyService(settings: inverse, component: .transcribe).isEnabled)
        #expect(try ProxyService(settings: inverse, component: .api).isEnabled)
    }

    @Test("ytDlpArguments passes --proxy with the full URL when enabled")
    func ytDlpArguments() throws {
        let service = try ProxyService(settings: Self.settings(), component: .transcribe)
        let url = try #require(service.proxyURL)
        #expect(service.ytDlpArguments() == ["--proxy", url])
        let disabled = try ProxyService(settings: ProxySettings(), component: .transcribe)
        #expect(disabled.ytDlpArguments() == [])
    }

    @Test("maxConcurrency passes through; negative values and bad ports are rejected")
    func validation() throws {
        #expect(try ProxyService(settings: ProxySettings(maxConcurrency: 4), component: .api).maxConcurrency == 4)
        #expect(try ProxyService(settings: ProxySettings(), component: .api).maxConcurrency == 0)
        let negative = #expect(throws: ProxyConfigurationError.self) {
            try ProxyService(settings: ProxySettings(maxConcurrency: -1), component: .api)
        }
        #expect(negative?.code == .invalidConcurrency)
        var badPort = Self.settings()
        badPort.gatewayPort = 70000
        let port = #expect(throws: ProxyConfigurationError.self) {
            try ProxyService(settings: badPort, component: .api)
        }
        #expect(port?.code == .invalidPort)
    }

    @Test("an IPv6 literal gateway is bracketed")
    func ipv6Host() throws {
        var settings = Self.settings(useBackbone: false, username: "u", password: "p")
        settings.gatewayHost = "::1"
        settings.gatewayPort = 3128
        #expect(try ProxyService(settings: settings, component: .api).proxyURL == "http://u:p@[::1]:3128")
    }
}
