import Foundation
import ProxyGateway

/// An HTTPS origin for the lab: serves a directory over TLS on 127.0.0.1 with a self-signed
/// certificate made for the run, so that yt-dlp reaches it through the gateway with a CONNECT
/// tunnel (RFC 9110 §9.3.6), as it reaches YouTube.
///
/// The certificate comes from `openssl req -x509` (CN and subjectAltName `IP:127.0.0.1`) and the
/// server is Python's `http.server` wrapped in its `ssl` module.
/// Clients must trust the certificate or skip the check (yt-dlp `--no-check-certificates`, in
/// the lab only).
public final class TLSOrigin: Sendable {
    /// The port on 127.0.0.1.
    public let port: Int
    /// The PEM certificate the server presents.
    public let certificatePath: String
    private let process: Process

    private init(port: Int, certificatePath: String, process: Process) {
        self.port = port
        self.certificatePath = certificatePath
        self.process = process
    }

    /// `https://127.0.0.1:<port>`.
    public var baseURL: String { "https://\(LoopbackPort.host):\(port)" }

    private static let server = """
        import http.server, signal, ssl, sys
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
        root, cert, key = sys.argv[1:4]
        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=root, **kwargs)
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// Makes a certificate in `workDirectory` and starts serving `rootDirectory`.
    /// - Throws: ``ProxyLabError`` `.toolMissing` when `openssl` or `python3` is absent,
    ///   `.commandFailed` when the certificate cannot be made or the server does not start.
    public static func start(rootDirectory: String, workDirectory: String) throws -> TLSOrigin {
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let certificate = workDirectory + "/origin-cert.pem"
        let key = workDirectory + "/origin-key.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        openssl.environment = ProxySettings.childEnvironment()
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        do { try openssl.run() } catch { throw ProxyLabError(.toolMissing, "cannot run openssl: \(error)") }
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else {
            throw ProxyLabError(.commandFailed, "openssl could not make a self-signed certificate")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", server, rootDirectory, certificate, key]
        process.environment = ProxySettings.childEnvironment()
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw ProxyLabError(.toolMissing, "cannot run python3: \(error)") }
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw ProxyLabError(.commandFailed, "the HTTPS origin did not start")
        }
        return TLSOrigin(port: port, certificatePath: certificate, process: process)
    }

    /// Stops the server (SIGKILL: a child spawned from a dispatch thread inherits a signal mask
    /// that may block SIGTERM, and the server holds nothing to flush) and waits for it to exit.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
