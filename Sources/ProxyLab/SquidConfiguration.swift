import Foundation

/// How to start a lab ``SquidGateway``: where its files live and which Basic-auth user it accepts.
///
/// The password is only ever written to the `htpasswd` process's standard input, never to its
/// command line, and never appears in ``description``.
public struct SquidConfiguration: Sendable, CustomStringConvertible {
    /// The lab directory for Squid's files (config, password file, logs, pid file). Created if
    /// missing and handed to the `proxy` user when running as root.
    public var directory: String
    /// The one user Squid accepts (Basic auth through `basic_ncsa_auth`).
    public var username: String
    /// That user's password. Any characters, including `@ : / % #`.
    public var password: String
    /// The TCP port on 127.0.0.1, or `nil` to pick a free one.
    public var port: Int?
    /// How long to wait for Squid to accept connections. Default 20 s.
    public var startTimeout: Duration
    /// Path of the Squid binary. Default `/usr/sbin/squid`.
    public var squidPath: String
    /// Path of Apache's `htpasswd`. Default `/usr/bin/htpasswd`.
    public var htpasswdPath: String
    /// Path of Squid's Basic-auth helper. Default `/usr/lib/squid/basic_ncsa_auth`.
    public var authHelperPath: String
    /// Host names Squid resolves itself (its `hosts_file`, read before DNS), e.g.
    /// `["www.youtube.com": "127.0.0.2"]` to send a real host name to a local origin.
    public var hosts: [String: String] = [:]

    /// Checks what Squid itself cannot cope with, before anything is started.
    ///
    /// - Parameters:
    ///   - username: The Basic-auth user: ASCII letters, digits and `-_.` only (it is written into
    ///     Squid's password file and matched in its log).
    ///   - directory: The lab directory: no whitespace (squid.conf paths are unquoted words).
    /// - Throws: ``ProxyLabError`` with code `.invalidArgument` naming the rule.
    public static func validate(username: String, directory: String) throws {
        guard !username.isEmpty, username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw ProxyLabError(
                .invalidArgument, "the lab gateway's username must be ASCII letters, digits, '-', '_' or '.' (set PROXY_USERNAME)")
        }
        guard !directory.contains(where: \.isWhitespace) else {
            throw ProxyLabError(
                .invalidArgument, "the lab directory must not contain spaces (Squid's configuration cannot quote paths): \(directory)")
        }
        try checkReachableBySquid(directory)
    }

    /// Run as root, Squid drops its privileges to the user `proxy`, which must be able to enter
    /// every folder above the lab directory (the directory itself is given to `proxy`).
    ///
    /// - Throws: ``ProxyLabError`` `.invalidArgument` naming the first folder `proxy` may not
    ///   enter, its mode and owner.
    static func checkReachableBySquid(_ directory: String) throws {
        guard geteuid() == 0, let user = getpwnam("proxy") else { return }
        let (uid, gid) = (user.pointee.pw_uid, user.pointee.pw_gid)
        var folder = URL(fileURLWithPath: directory).standardizedFileURL
        var ancestors: [String] = []
        while folder.path != "/" {
            folder.deleteLastPathComponent()
            ancestors.insert(folder.path, at: 0)
        }
        for path in ancestors {
            var info = stat()
            guard stat(path, &info) == 0 else { return }  // the rest is created by the lab, for root
            let bit = info.st_uid == uid ? S_IXUSR : (info.st_gid == gid ? S_IXGRP : S_IXOTH)
            guard info.st_mode & bit == 0 else { continue }
            let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
            throw ProxyLabError(
                .invalidArgument,
                "Squid runs as the user proxy, which may not enter \(path) (mode \(String(info.st_mode & 0o7777, radix: 8)), "
                    + "owner \(owner)); put --lab-dir under a folder others may enter (the default is under /tmp), "
                    + "or allow it with `chmod o+x \(path)`")
        }
    }

    /// Creates a configuration.
    /// - Parameters:
    ///   - directory: the lab directory for Squid's files.
    ///   - username: the Basic-auth user; ASCII letters, digits and `-_.` only (see ``validate(username:directory:)``).
    ///   - password: the user's password.
    ///   - port: a fixed port on 127.0.0.1, or `nil` for a free one.
    ///   - startTimeout: how long ``SquidGateway/start(_:logger:)`` polls the port.
    public init(
        directory: String,
        username: String,
        password: String,
        port: Int? = nil,
        startTimeout: Duration = .seconds(20),
        squidPath: String = "/usr/sbin/squid",
        htpasswdPath: String = "/usr/bin/htpasswd",
        authHelperPath: String = "/usr/lib/squid/basic_ncsa_auth"
    ) {
        self.directory = directory
        self.username = username
        self.password = password
        self.port = port
        self.startTimeout = startTimeout
        self.squidPath = squidPath
        self.htpasswdPath = htpasswdPath
        self.authHelperPath = authHelperPath
    }

    /// The access log Squid writes in the `ledger` log format.
    public var accessLogPath: String { path("gateway-access.log") }
    /// Squid's cache.log (diagnostics).
    public var cacheLogPath: String { path("cache.log") }
    /// The generated `squid.conf`.
    public var configPath: String { path("squid.conf") }
    /// The htpasswd file.
    public var passwordFilePath: String { path("passwd") }
    /// The external ACL helper of ``GatewayThrottle``.
    public var throttleHelperPath: String { path(GatewayThrottle.helperName) }
    /// The `hosts_file` written from ``hosts``.
    public var hostsFilePath: String { path("hosts") }
    /// Squid's pid file.
    public var pidFilePath: String { path("squid.pid") }

    /// The directory, user and port, with the password redacted.
    public var description: String {
        "SquidConfiguration(directory: \(directory), username: \(username), password: <redacted>, "
            + "port: \(port.map(String.init) ?? "auto"))"
    }

    /// The `squid.conf` text for `port`.
    ///
    /// The `ledger` log format records request bytes from the client (`%>st`) and reply bytes to
    /// it (`%<st`); source: Squid's `logformat` directive documentation.
    public func renderConfig(port: Int) -> String {
        """
        # Generated by ProxyLab.SquidGateway. Loopback only.
        http_port \(LoopbackPort.host):\(port)
        visible_hostname proxy-ledger-lab
        pid_filename \(pidFilePath)
        cache_log \(cacheLogPath)
        cache_store_log none
        coredump_dir \(directory)
        cache deny all
        cache_dir null \(directory)
        pinger_enable off
        netdb_filename none
        logfile_rotate 0
        shutdown_lifetime 1 seconds
        auth_param basic program \(authHelperPath) \(passwordFilePath)
        auth_param basic realm proxy-ledger-lab
        auth_param basic children 5 startup=1 idle=1
        auth_param basic casesensitive on
        acl authed proxy_auth REQUIRED
        \(GatewayThrottle.configLines(directory: directory, helperPath: throttleHelperPath))
        http_access allow authed
        http_access deny all
        logformat ledger %ts.%03tu %6tr %>a %Ss/%03>Hs %>st %<st %rm %ru %un
        access_log stdio:\(accessLogPath) ledger
        \(hosts.isEmpty ? "" : "hosts_file \(hostsFilePath)")

        """
    }

    func path(_ name: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(name).path
    }
}
