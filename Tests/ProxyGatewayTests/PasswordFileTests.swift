import Foundation
import TestSupport
import Testing

@testable import ProxyGateway

@Suite("PROXY_PASSWORD_FILE")
struct PasswordFileTests {
    static let secret = "s3cr3t-P@ss:w/rd%#?"

    func file(_ directory: TemporaryDirectory, _ contents: String) throws -> String {
        let path = directory.file("password")
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(
        "one trailing newline is removed, nothing else",
        arguments: [
            ("\(secret)\n", secret), ("\(secret)\r\n", secret), (secret, secret), (" \(secret) \n", " \(secret) "),
        ])
    func readsThePassword(contents: String, expected: String) throws {
        let directory = try TemporaryDirectory("password-file")
        let settings = try ProxySettings.fromEnvironment(["PROXY_PASSWORD_FILE": try file(directory, contents)])
        #expect(settings.password == expected)
    }

    @Test func twoTrailingNewlinesLeaveAControlCharacterThatIsRefused() throws {
        let directory = try TemporaryDirectory("password-file")
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment(["PROXY_PASSWORD_FILE": try file(directory, "\(Self.secret)\n\n")])
        }
        #expect(error?.code == .invalidCredential && error?.variable == "PROXY_PASSWORD_FILE")
        #expect(error?.description.contains(Self.secret) == false)
    }

    @Test func bothVariablesAreAConflictNamingBoth() throws {
        let directory = try TemporaryDirectory("password-file")
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment([
                "PROXY_PASSWORD": "other", "PROXY_PASSWORD_FILE": try file(directory, Self.secret),
            ])
        }
        #expect(error?.code == .conflictingSettings)
        #expect(error?.description.contains("PROXY_PASSWORD and PROXY_PASSWORD_FILE") == true)
        #expect(error?.description.contains(Self.secret) == false && error?.description.contains("other") == false)
    }

    @Test func aMissingFileNamesThePathNeverTheContent() throws {
        let directory = try TemporaryDirectory("password-file")
        let missing = directory.file("absent")
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment(["PROXY_PASSWORD_FILE": missing])
        }
        #expect(error?.code == .unreadableFile && error?.variable == "PROXY_PASSWORD_FILE")
        #expect(error?.description.contains(missing) == true)
        #expect(error?.description.contains("No such file or directory") == true)
    }

    @Test func anUnreadableFileNamesThePathNeverTheContent() throws {
        let directory = try TemporaryDirectory("password-file")
        // A folder cannot be read as a file, whoever runs the test (root reads any mode).
        let error = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment(["PROXY_PASSWORD_FILE": directory.path])
        }
        #expect(error?.code == .unreadableFile && error?.description.contains(directory.path) == true)
        let big = try file(directory, Self.secret + String(repeating: "x", count: ProxySettings.passwordFileLimit))
        let tooBig = #expect(throws: ProxyConfigurationError.self) {
            try ProxySettings.fromEnvironment(["PROXY_PASSWORD_FILE": big])
        }
        #expect(tooBig?.code == .unreadableFile && tooBig?.description.contains(Self.secret) == false)
    }

    @Test func anEmptyPasswordVariableIsNoConflict() throws {
        let directory = try TemporaryDirectory("password-file")
        let settings = try ProxySettings.fromEnvironment([
            "PROXY_PASSWORD": "", "PROXY_PASSWORD_FILE": try file(directory, Self.secret + "\n"),
        ])
        #expect(settings.password == Self.secret)
    }
}
