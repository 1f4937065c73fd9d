/// The lab gateway's own throttling, for tests of `gateway_throttled`: Squid answers
/// `429 Too Many Requests` (its error page, with `X-Squid-Error` and `Retry-After: 1`) to the
/// first N requests for `/gateway-throttle/N/KEY/REST` with that KEY, then forwards them; the
/// origin serves such a request as `/REST` (``OriginFaults``).
///
/// This is what Webshare does when a plan's limits are hit, e.g. `client_connect_high_concurrency`:
/// the refusal comes from the gateway, not from YouTube. Squid counts through an external ACL
/// helper (`external_acl_type`, no result cache) that keeps one counter file per KEY in the lab
/// directory; `deny_info 429:ERR_ACCESS_DENIED` sets the status (Squid's `deny_info`
/// documentation: "a different 4xx or 5xx may be specified by prefixing the file name with the
/// code and a colon").
enum GatewayThrottle {
    /// The path prefix, without its `/N/KEY` part.
    static let prefix = "/gateway-throttle/"

    /// The helper's file name in the lab directory.
    static let helperName = "gateway-throttle.sh"

    /// The helper: reads one URL path per line, answers `OK` (throttle it) while the KEY's
    /// counter is below N, else `ERR`. KEYs are letters, digits, `-` and `_` only.
    static let helperScript = #"""
        #!/bin/sh
        # proxy-ledger lab: Squid external ACL helper for /gateway-throttle/N/KEY/... (see GatewayThrottle.swift).
        dir="$1"
        while read -r path; do
            set -- $(printf '%s' "$path" | tr '/' ' ')
            case "$3" in ''|*[!A-Za-z0-9_-]*) echo ERR; continue ;; esac
            if [ "$1" = gateway-throttle ]; then
                count=$(cat "$dir/throttle-$3" 2>/dev/null || echo 0)
                if [ "$count" -lt "$2" ] 2>/dev/null; then
                    echo $((count + 1)) > "$dir/throttle-$3"
                    echo OK
                    continue
                fi
            fi
            echo ERR
        done

        """#

    /// The `squid.conf` lines: the helper, the ACLs, the denial and its status and header. They
    /// go before the `http_access allow` line; the authentication ACL comes first on the deny
    /// line, so an unauthenticated request still gets its 407.
    static func configLines(directory: String, helperPath: String) -> String {
        """
        external_acl_type lab_throttle ttl=0 negative_ttl=0 children-max=1 children-startup=1 %PATH /bin/sh \(helperPath) \(directory)
        acl throttle_path urlpath_regex ^\(prefix)
        acl gateway_throttled external lab_throttle
        acl status_429 http_status 429
        http_access deny authed throttle_path gateway_throttled
        deny_info 429:ERR_ACCESS_DENIED gateway_throttled
        reply_header_add Retry-After 1 throttle_path status_429
        """
    }
}
