import Foundation
public import Logging

/// A running lab: origin server, fixtures and Squid gateway, all on 127.0.0.1.
///
/// Made by ``withProxyLab(directory:videoCount:channelCount:username:password:logger:_:)``.
public struct LabEnvironment: Sendable {
    /// The lab directory (`origin/`, `info/`, `squid/`, `out/` live below it).
    public let directory: String
    /// The origin serving `directory/origin`.
    public let origin: OriginServer
    /// The authenticating Squid gateway; its files live in `directory/squid`.
    public let gateway: SquidGateway
    /// The fixtures on the origin.
    public let fixtures: LabFixtureSet
    /// A directory for yt-dlp output (`directory/out`), created empty.
    public let outputDirectory: String
    /// The HTTPS origin the fixtures point at, when the lab was started with `httpsOrigin`.
    public let tlsOrigin: TLSOrigin?
}

/// Starts the whole lab under `directory`, runs `body`, and stops Squid and the origin again.
///
/// Order: origin on a free port → fixtures pointing at it → Squid with Basic auth.
///
/// ```swift
/// try await withProxyLab(directory: dir, videoCount: 20, channelCount: 2,
///                        username: "lab-user", password: "p@ss:w/rd%#1") { lab in
///     for video in lab.fixtures.videos { … video.infoJSONPath … }
///     let proxy = lab.gateway.proxyURL()
/// }
/// ```
/// - Parameters:
///   - directory: the lab directory; created if missing. Must be traversable by the `proxy` user
///     when running as root (a directory under `/tmp` is).
///   - videoCount: videos to create, ≥ 1.
///   - channelCount: channels (RSS feeds) to create, ≥ 1.
///   - username: the gateway's Basic-auth user.
///   - password: the gateway password (never logged).
///   - httpsOrigin: serve the fixtures over HTTPS with a self-signed certificate (``TLSOrigin``),
///     so that yt-dlp tunnels through the gateway with CONNECT.
///   - hosts: host names the gateway resolves itself (``SquidConfiguration/hosts``).
/// - Throws: ``ProxyLabError`` `.invalidArgument` when another run holds the directory (an
///   exclusive lock on `directory/.lab.lock`), else from ``OriginServer``, ``LabFixtures`` or
///   ``SquidGateway``, or what `body` throws.
public func withProxyLab<Result: Sendable>(
    directory: String,
    videoCount: Int,
    channelCount: Int = 1,
    username: String = "lab-user",
    password: String,
    httpsOrigin: Bool = false,
    hosts: [String: String] = [:],
    logger: Logger = Logger(label: "proxy-ledger.lab"),
    _ body: (LabEnvironment) async throws -> Result
) async throws -> Result {
    let root = URL(fileURLWithPath: directory)
    let output = root.appendingPathComponent("out").path
    do {
        try FileManager.default.createDirectory(atPath: root.path, withIntermediateDirectories: true)
    } catch {
        throw ProxyLabError(.fileSystem, "cannot create \(root.path): \(error.localizedDescription)")
    }
    let lock = try LabLock.acquire(directory: root.path)
    defer { withExtendedLifetime(lock) {} }
    do {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    } catch {
        throw ProxyLabError(.fileSystem, "cannot create \(output): \(error.localizedDescription)")
    }
    return try await withOriginServer(rootDirectory: root.appendingPathComponent("origin").path, logger: logger) {
        origin in
        let tls = httpsOrigin
            ? try TLSOrigin.start(rootDirectory: origin.rootDirectory, workDirectory: root.appendingPathComponent("tls").path)
            : nil
        defer { tls?.stop() }
        let fixtures = try LabFixtures.write(
            into: directory, originPort: origin.port, originBaseURL: tls?.baseURL, videoCount: videoCount,
            channelCount: channelCount)
        var squid = SquidConfiguration(
            directory: root.appendingPathComponent("squid").path, username: username, password: password)
        squid.hosts = hosts
        return try await withSquidGateway(squid, logger: logger) { gateway in
            try await body(
                LabEnvironment(
                    directory: root.path, origin: origin, gateway: gateway, fixtures: fixtures,
                    outputDirectory: output, tlsOrigin: tls))
        }
    }
}
