import Foundation
import ProxyGateway
import Subprocess
import SystemPackage

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
            if !configuration.hosts.isEmpty {
                try configuration.hosts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)\n" }.joined()
                    .write(toFile: configuration.hostsFilePath, atomically: true, encoding: .utf8)
            }
            try GatewayThrottle.helperScript
                .write(toFile: configuration.throttleHelperPath, atomically: true, encoding: .utf8)
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
        try writePrivateFile(configuration.passwordFilePath, contents: try await passwordEntry(configuration))
        // Squid drops privileges to `proxy`; its directory must be writable by that user, and its
        // Basic-auth helper (running as `proxy`) must read the password file, which stays 0600.
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

    /// The htpasswd line for the lab user (`user:$apr1$…`), made by `htpasswd -in`: `-i` reads
    /// the password from stdin, so it never shows in `ps`, and `-n` prints the line instead of
    /// writing a file with the default (world-readable) mode.
    private static func passwordEntry(_ configuration: SquidConfiguration) async throws -> String {
        let htpasswd = try await Subprocess.run(
            .path(.init(configuration.htpasswdPath)),
            arguments: ["-in", configuration.username],
            environment: .inheritedWithoutProxySettings,
            input: .string(configuration.password + "\n"),
            output: .string(limit: 16 * 1024),
            error: .string(limit: 16 * 1024)
        )
        let entry = htpasswd.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard htpasswd.terminationStatus.isSuccess, !entry.isEmpty else {
            throw ProxyLabError(
                .commandFailed, "htpasswd failed (\(htpasswd.terminationStatus)): \(htpasswd.standardError)")
        }
        return entry + "\n"
    }

    /// Writes `contents` to a new file at `path` with mode 0600 (an older file there is
    /// replaced; `O_EXCL | O_NOFOLLOW`, so a link planted there is not followed).
    static func writePrivateFile(_ path: String, contents: String) throws {
        if unlink(path) != 0, errno != ENOENT { throw fileError("replace", path) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw fileError("create", path) }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else { throw fileError("protect", path) }
        let bytes = Array(contents.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw fileError("write", path) }
            offset += written
        }
    }

    private static func fileError(_ step: String, _ path: String) -> ProxyLabError {
        ProxyLabError(.fileSystem, "cannot \(step) \(path): \(String(cString: strerror(errno)))")
    }

    /// `true` when `pid` is gone or a zombie (exited, not yet reaped), read from `/proc/PID/stat`.
    static func hasExited(pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).prefix(1)
        return state == "Z" || state == "X"
    }
}
