import Foundation
import ProxyGateway

/// An HTTPS origin for the lab: serves a directory, and recorded responses (``Route``), over TLS
/// on a loopback address with a self-signed certificate made for the run, so that yt-dlp and
/// youtube-transcript-api reach it through the gateway with a CONNECT tunnel (RFC 9110 §9.3.6),
/// as they reach YouTube.
///
/// The certificate comes from `openssl req -x509` (CN and subjectAltName `IP:127.0.0.1`) and the
/// server is Python's `http.server` wrapped in its `ssl` module.
/// Clients must trust the certificate or skip the check (yt-dlp `--no-check-certificates`, in
/// the lab only).
public final class TLSOrigin: Sendable {
    /// The address it listens on, e.g. `127.0.0.1`.
    public let host: String
    /// The port on ``host``.
    public let port: Int
    /// The PEM certificate the server presents.
    public let certificatePath: String
    private let process: Process

    private init(host: String, port: Int, certificatePath: String, process: Process) {
        self.host = host
        self.port = port
        self.certificatePath = certificatePath
        self.process = process
    }

    /// `https://<host>:<port>`.
    public var baseURL: String { "https://\(host):\(port)" }

    /// A recorded response the origin serves instead of a file of its directory.
    public struct Route: Sendable, Encodable {
        /// `GET` or `POST`.
        public var method: String
        /// The path without the query, e.g. `/watch`.
        public var path: String
        /// Text the query string or the request body must contain (`""` matches any request).
        public var contains: String
        /// The HTTP status, e.g. 200 or 429.
        public var status: Int
        /// The file whose bytes are the body.
        public var file: String
        /// The `Content-Type` sent.
        public var contentType: String

        /// Creates a route; the first route that matches a request answers it.
        public init(method: String, path: String, contains: String = "", status: Int = 200, file: String, contentType: String) {
            self.method = method
            self.path = path
            self.contains = contains
            self.status = status
            self.file = file
            self.contentType = contentType
        }
    }

    private static let server = """
        import http.server, json, signal, ssl, sys
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        root, cert, key, host, port, routes_path = sys.argv[1:7]
        routes = json.load(open(routes_path))
        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)
            def log_message(self, *args):
                pass
            def answer(self, method):
                body = b""
                if method == "POST":
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seen = self.path + body.decode("utf-8", "replace")
                for route in routes:
                    if route["method"] == method and self.path.split("?")[0] == route["path"] and route["contains"] in seen:
                        data = open(route["file"], "rb").read()
                        self.send_response(route["status"])
                        self.send_header("Content-Type", route["contentType"])
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(data)
                        return True
                return False
            def do_GET(self):
                if not self.answer("GET"):
                    super().do_GET()
            def do_POST(self):
                if not self.answer("POST"):
                    self.send_error(404)
        server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// Makes a certificate in `workDirectory` and starts serving `rootDirectory`.
    /// - Parameters:
    ///   - host: The address to bind, e.g. `127.0.0.2` (any of 127.0.0.0/8 works on Linux).
    ///   - port: The port, `0` for a free one; below 1024 needs root.
    ///   - serverName: The DNS name the certificate is for (`www.youtube.com`); `nil` makes it
    ///     for the IP address `host`.
    ///   - routes: Recorded responses answered before the directory's files.
    /// - Throws: ``ProxyLabError`` `.toolMissing` when `openssl` or `python3` is absent,
    ///   `.commandFailed` when the certificate cannot be made or the server does not start (the
    ///   port is taken, or needs root).
    public static func start(
        rootDirectory: String, workDirectory: String, host: String = LoopbackPort.host, port: Int = 0,
        serverName: String? = nil, routes: [Route] = []
    ) throws -> TLSOrigin {
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let certificate = workDirectory + "/origin-cert.pem"
        let key = workDirectory + "/origin-key.pem"
        let routesFile = workDirectory + "/routes.json"
        try JSONEncoder().encode(routes).write(to: URL(fileURLWithPath: routesFile))
        try makeCertificate(certificate, key: key, subject: serverName ?? host, altName: serverName.map { "DNS:" + $0 } ?? "IP:" + host)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", server, rootDirectory, certificate, key, host, "\(port)", routesFile]
        process.environment = ProxySettings.childEnvironment()
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw ProxyLabError(.toolMissing, "cannot run python3: \(error)") }
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let bound = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw ProxyLabError(.commandFailed, "the HTTPS origin did not start on \(host):\(port)")
        }
        return TLSOrigin(host: host, port: bound, certificatePath: certificate, process: process)
    }

    /// A self-signed certificate and its key, from `openssl req -x509`, valid for two days.
    private static func makeCertificate(_ certificate: String, key: String, subject: String, altName: String) throws {
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=\(subject)", "-addext", "subjectAltName=\(altName)",
        ]
        openssl.environment = ProxySettings.childEnvironment()
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        do { try openssl.run() } catch { throw ProxyLabError(.toolMissing, "cannot run openssl: \(error)") }
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else {
            throw ProxyLabError(.commandFailed, "openssl could not make a self-signed certificate")
        }
    }

    /// Stops the server (SIGKILL: a child spawned from a dispatch thread inherits a signal mask
    /// that may block SIGTERM, and the server holds nothing to flush) and waits for it to exit.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
