internal import CCurlShims
import Dispatch
import Ledger

/// One blocking libcurl `HEAD` request through an HTTP proxy, classified as a
/// ``ConnectivityStatus``.
///
/// Source: libcurl `curl_easy_setopt(3)`, `curl_easy_getinfo(3)`, `libcurl-errors(3)`.
struct CurlHeadProbe: Sendable {
    var targetURL: String
    /// `host:port` of the proxy, without scheme or credentials.
    var proxy: String
    var username: String
    var password: String
    var timeoutMS: Int

    /// Where the blocking calls run, off the Swift concurrency pool.
    static let queue = DispatchQueue(label: "ProxyGateway.CurlHeadProbe", attributes: .concurrent)

    /// `curl_global_init` must run once per process, before any other libcurl call. A static
    /// `let` initializer runs exactly once, thread-safely.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    /// The value of `CURLAUTH_BASIC` (curl.h): send Basic credentials on the first request.
    private static let authBasic = 1

    /// Performs the request. Blocks the calling thread for up to `timeoutMS`.
    func run() -> ConnectivityStatus {
        guard Self.globalInit == CURLE_OK else {
            return .error(reason: .other, detail: "curl_global_init failed: \(Self.message(Self.globalInit))")
        }
        guard let handle = curl_easy_init() else {
            return .error(reason: .other, detail: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }

        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }

        // libcurl copies string options (since 7.17.0), so temporary C strings are fine.
        let options: [(CURLoption, Option)] = [
            (CURLOPT_URL, .string(targetURL)),
            (CURLOPT_NOBODY, .long(1)),
            (CURLOPT_FOLLOWLOCATION, .long(0)),
            (CURLOPT_PROXY, .string(proxy)),
            (CURLOPT_PROXYTYPE, .long(Int(CURLPROXY_HTTP.rawValue))),
            // An empty list overrides NO_PROXY from the environment: always use the proxy.
            (CURLOPT_NOPROXY, .string("")),
            // CURLAUTH_BASIC is `((unsigned long)1)<<0`, a cast macro Swift does not import.
            (CURLOPT_PROXYAUTH, .long(Self.authBasic)),
            (CURLOPT_PROXYUSERNAME, .string(username)),
            (CURLOPT_PROXYPASSWORD, .string(password)),
            (CURLOPT_TIMEOUT_MS, .long(timeoutMS)),
            (CURLOPT_NOSIGNAL, .long(1)),
            (CURLOPT_ERRORBUFFER, .pointer(UnsafeMutableRawPointer(errorBuffer))),
        ]
        for (option, value) in options {
            let code = value.set(option, on: handle)
            guard code == CURLE_OK else {
                return .error(
                    reason: .other, detail: "curl_easy_setopt(\(option.rawValue)) failed: \(Self.message(code))")
            }
        }

        let start = ContinuousClock.now
        let result = curl_easy_perform(handle)
        let elapsed = ContinuousClock.now - start
        let durationMS = elapsed.wholeMilliseconds

        let status = Self.info(handle, CURLINFO_RESPONSE_CODE)
        let connectStatus = Self.info(handle, CURLINFO_HTTP_CONNECTCODE)
        if status == 407 || connectStatus == 407 {
            return .error(reason: .authFailure, detail: "HTTP 407 Proxy Authentication Required")
        }
        guard result == CURLE_OK else {
            let text = String(cString: errorBuffer)
            let detail = text.isEmpty ? Self.message(result) : text
            return .error(reason: Self.classify(result), detail: detail)
        }
        guard status > 0, status < 400 else {
            return .error(reason: .httpError, detail: "HTTP \(status)")
        }
        return .ok(httpStatus: status, durationMS: durationMS)
    }

    /// Maps a libcurl error code to a failure reason.
    static func classify(_ code: CURLcode) -> ConnectivityFailure {
        switch code {
        case CURLE_COULDNT_CONNECT: .connectionRefused
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST: .dns
        default: .other
        }
    }

    private static func info(_ handle: UnsafeMutableRawPointer, _ info: CURLINFO) -> Int {
        var value = 0
        guard CCurlShims_easy_getinfo_long(handle, info, &value) == CURLE_OK else { return 0 }
        return value
    }

    private static func message(_ code: CURLcode) -> String {
        guard let text = curl_easy_strerror(code) else { return "CURLcode \(code.rawValue)" }
        return String(cString: text)
    }

    /// A typed option value, dispatched to the matching non-variadic shim.
    private enum Option {
        case long(Int)
        case string(String)
        case pointer(UnsafeMutableRawPointer)

        func set(_ option: CURLoption, on handle: UnsafeMutableRawPointer) -> CURLcode {
            switch self {
            case .long(let value): CCurlShims_easy_setopt_long(handle, option, value)
            case .string(let value): CCurlShims_easy_setopt_string(handle, option, value)
            case .pointer(let value): CCurlShims_easy_setopt_pointer(handle, option, value)
            }
        }
    }
}
