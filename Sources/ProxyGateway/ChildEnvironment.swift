import Foundation
public import Subprocess

extension Subprocess.Environment {
    /// This process's environment without the variables of
    /// ``ProxySettings/variablesHiddenFromChildren(in:)`` (every `PROXY_*` variable), for child
    /// processes such as yt-dlp, Squid and htpasswd, so that the gateway password never reaches
    /// their environment (`/proc/<pid>/environ`, `ps e`).
    public static var inheritedWithoutProxySettings: Self {
        let removals = ProxySettings.variablesHiddenFromChildren().map { (Key(stringLiteral: $0), String?.none) }
        return .inherit.updating(Dictionary(removals, uniquingKeysWith: { first, _ in first }))
    }
}
