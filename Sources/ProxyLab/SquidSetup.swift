import Foundation
import ProxyGateway
import Subprocess

#if canImport(Glibc)
    import Glibc
#endif

/// Files and permissions Squid needs before it starts.
enum SquidSetup {
    static func prepare(_ configuration: SquidConfiguration, port: Int) async throws {
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.directory, withIntermediateDirectories: true)
            try configuration.renderConfig(port: port)
                .write(toFile: configuration.configPath, atomically: true, encoding: .utf8)
            // Both logs start empty, so that LAB/gateway-access.log holds this run only and an
            // error quotes this start's cache.log.
            for file in [configuration.accessLogPath, configuration.cacheLogPath] {
                guard FileManager.default.createFile(atPath: file, contents: Data()) else {
                    throw ProxyLabError(.fileSystem, "cannot create \(file)")
                }
            }
        } catch {
            throw ProxyLabError(.fileSystem, "cannot write squid files in \(configuration.directory): \(error)")
        }
        // `-i` reads the password from stdin, so it never shows in `ps`.
        let htpasswd = try await Subprocess.run(
            .path(.init(configuration.htpasswdPath)),
            arguments: ["-ic", configuration.passwordFilePath, configuration.username],
            environment: .inheritedWithoutProxySettings,
            input: .string(configuration.password + "\n"),
            output: .discarded,
            error: .string(limit: 16 * 1024)
        )
        guard htpasswd.terminationStatus.isSuccess else {
            throw ProxyLabError(
                .commandFailed, "htpasswd failed (\(htpasswd.terminationStatus)): \(htpasswd.standardError)")
        }
        // Squid drops privileges to `proxy`; its directory must be writable by that user.
        if geteuid() == 0, getpwnam("proxy") != nil {
            let chown = try await Subprocess.run(
                .name("chown"), arguments: ["-R", "proxy:proxy", configuration.directory],
                environment: .inheritedWithoutProxySettings,
                output: .discarded, error: .string(limit: 16 * 1024))
            guard chown.terminationStatus.isSuccess else {
                throw ProxyLabError(.commandFailed, "chown proxy:proxy failed: \(chown.standardError)")
            }
        }
    }

    /// `true` when `pid` is gone or a zombie (exited, not yet reaped), read from `/proc/PID/stat`.
    static func hasExited(pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
        return state == "Z" || state == "X"
    }
}
