import Foundation
import Ledger

/// The JSON settings file: every `PROXY_*` variable under `"proxy"`, and the per-component
/// overrides under `"components"` (documented key by key in `docs/configuration.md`).
///
/// ```json
/// {"proxy": {"enabled": true, "gateway_host": "p.webshare.io", "gateway_port": 80,
///            "username": "alice", "password_file": "/run/secrets/proxy-password",
///            "use_backbone": true, "max_concurrency": 20},
///  "components": {"transcribe-worker": {"proxy_enabled": true},
///                 "api-youtube-service": {"proxy_enabled": false}}}
/// ```
///
/// Booleans are JSON `true`/`false`, numbers JSON integers, the rest strings; `null` is the same
/// as leaving a key out. A relative `password_file` is relative to the settings file's folder.
enum SettingsFile {
    /// The JSON type a key takes.
    enum Kind: Sendable {
        case bool, integer, string
    }

    /// The keys of the `"proxy"` object, the variable each stands for, and its type.
    static let proxyKeys: [(key: String, variable: String, kind: Kind)] = [
        ("enabled", ProxySettings.Variable.enabled, .bool),
        ("gateway_host", ProxySettings.Variable.gatewayHost, .string),
        ("gateway_port", ProxySettings.Variable.gatewayPort, .integer),
        ("username", ProxySettings.Variable.username, .string),
        ("password", ProxySettings.Variable.password, .string),
        ("password_file", ProxySettings.Variable.passwordFile, .string),
        ("use_backbone", ProxySettings.Variable.useBackbone, .bool),
        ("max_concurrency", ProxySettings.Variable.maxConcurrency, .integer),
    ]

    /// The components under `"components"` and the variable of their `proxy_enabled` key.
    static let componentKeys: [(component: ProxyComponent, variable: String)] = [
        (.transcribe, ProxySettings.Variable.transcribeEnabled),
        (.api, ProxySettings.Variable.apiEnabled),
    ]

    /// The largest settings file read, in bytes (1 MiB).
    static let sizeLimit = 1024 * 1024

    /// What a settings file holds: the settings by variable, and the listener's rules.
    struct Contents {
        var inputs: [String: SettingInput]
        var rules: [TrafficRule]
    }

    /// The settings in the file at `path`, by variable, named `key.path in <path>` for errors,
    /// and its `rules`.
    /// - Throws: ``ProxyConfigurationError`` `.unreadableFile`, `.invalidSettingsFile` (not JSON,
    ///   not an object, a wrong type, a bad rule) or `.unknownSetting` (with a near-miss suggestion).
    static func read(_ path: String) throws(ProxyConfigurationError) -> Contents {
        let bytes = try FileText.bytes(path, limit: sizeLimit, setting: nil)
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes)
        } catch {
            throw invalid(nil, path, "is not valid JSON (\(error))")
        }
        let top = try object(root, at: nil, path)
        try checkKeys(top, allowed: ["proxy", "components", "rules"], at: nil, path)
        var inputs: [String: SettingInput] = [:]
        if let proxy = top["proxy"], proxy != .null {
            let members = try object(proxy, at: "proxy", path)
            try checkKeys(members, allowed: proxyKeys.map(\.key), at: "proxy", path)
            for entry in proxyKeys {
                guard let value = members[entry.key], value != .null else { continue }
                let name = "proxy.\(entry.key)"
                inputs[entry.variable] = SettingInput(text: try text(value, entry.kind, name, path), name: located(name, path))
            }
        }
        if let components = top["components"], components != .null {
            try readComponents(components, path, into: &inputs)
        }
        if let file = inputs[ProxySettings.Variable.passwordFile], !file.text.hasPrefix("/") {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            inputs[ProxySettings.Variable.passwordFile]?.text = folder.appendingPathComponent(file.text).path
        }
        let rules = try top["rules"].map { value throws(ProxyConfigurationError) in try readRules(value, path) } ?? []
        return Contents(inputs: inputs, rules: rules)
    }

    /// The `rules` array: objects with `name`, `action`, exactly one of `host` and `url`, and
    /// optionally `components` (an array of names).
    private static func readRules(_ value: JSONValue, _ path: String) throws(ProxyConfigurationError) -> [TrafficRule] {
        if value == .null { return [] }
        guard case .array(let items) = value else { throw invalid("rules", path, "must be a JSON array of rule objects") }
        var rules: [TrafficRule] = []
        for (index, item) in items.enumerated() {
            let at = "rules[\(index)]"
            let members = try object(item, at: at, path)
            try checkKeys(members, allowed: ["name", "components", "host", "url", "action"], at: at, path)
            func string(_ key: String) throws(ProxyConfigurationError) -> String? {
                guard let value = members[key], value != .null else { return nil }
                guard case .string(let text) = value, !text.isEmpty else { throw invalid("\(at).\(key)", path, "must be a non-empty string") }
                return text
            }
            guard let name = try string("name") else { throw invalid("\(at).name", path, "is required") }
            let actions = TrafficRule.Action.allCases.map(\.rawValue)
            guard let action = try string("action").flatMap(TrafficRule.Action.init(rawValue:)) else {
                throw invalid("\(at).action", path, "must be one of \(actions.joined(separator: ", "))")
            }
            let host = try string("host"), url = try string("url")
            guard (host == nil) != (url == nil) else { throw invalid(at, path, "needs exactly one of \"host\" (a glob) and \"url\" (a regular expression)") }
            if let url, (try? Regex(url)) == nil { throw invalid("\(at).url", path, "is not a valid regular expression") }
            rules.append(TrafficRule(
                name: name, components: try componentList(members["components"], at: at, path), host: host, url: url, action: action))
        }
        return rules
    }

    private static func componentList(_ value: JSONValue?, at: String, _ path: String) throws(ProxyConfigurationError) -> [String]? {
        guard let value, value != .null else { return nil }
        guard case .array(let items) = value else { throw invalid("\(at).components", path, "must be an array of component names") }
        var names: [String] = []
        for item in items {
            guard case .string(let name) = item, !name.isEmpty else {
                throw invalid("\(at).components", path, "must be an array of component names")
            }
            names.append(name)
        }
        return names
    }

    private static func readComponents(
        _ value: JSONValue, _ path: String, into inputs: inout [String: SettingInput]
    ) throws(ProxyConfigurationError) {
        let components = try object(value, at: "components", path)
        try checkKeys(components, allowed: componentKeys.map(\.component.rawValue), at: "components", path)
        for entry in componentKeys {
            guard let member = components[entry.component.rawValue], member != .null else { continue }
            let at = "components.\(entry.component.rawValue)"
            let settings = try object(member, at: at, path)
            try checkKeys(settings, allowed: ["proxy_enabled"], at: at, path)
            guard let enabled = settings["proxy_enabled"], enabled != .null else { continue }
            let name = at + ".proxy_enabled"
            inputs[entry.variable] = SettingInput(text: try text(enabled, .bool, name, path), name: located(name, path))
        }
    }

    /// The value as the text the environment would hold, after checking its JSON type.
    private static func text(_ value: JSONValue, _ kind: Kind, _ name: String, _ path: String)
        throws(ProxyConfigurationError) -> String
    {
        switch (kind, value) {
        case (.bool, .bool(let flag)): return flag ? "true" : "false"
        case (.integer, .integer(let number)): return String(number)
        case (.string, .string(let string)): return string
        case (.bool, _): throw invalid(name, path, "must be true or false")
        case (.integer, _): throw invalid(name, path, "must be a JSON integer")
        case (.string, _): throw invalid(name, path, "must be a string")
        }
    }

    private static func object(_ value: JSONValue, at name: String?, _ path: String)
        throws(ProxyConfigurationError) -> [String: JSONValue]
    {
        guard case .object(let members) = value else { throw invalid(name, path, "must be a JSON object") }
        return members
    }

    /// Throws ``ProxyConfigurationError/Code/unknownSetting`` for the first key (in sorted order)
    /// not in `allowed`, suggesting the nearest allowed key when one is close.
    private static func checkKeys(
        _ members: [String: JSONValue], allowed: [String], at parent: String?, _ path: String
    ) throws(ProxyConfigurationError) {
        guard let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) else { return }
        let name = parent.map { "\($0).\(unknown)" } ?? unknown
        let hint = NearMiss.closest(to: unknown, among: allowed).map { "; did you mean \"\($0)\"?" } ?? ""
        let known = allowed.map { "\"\($0)\"" }.joined(separator: ", ")
        throw ProxyConfigurationError(
            code: .unknownSetting, variable: located(name, path),
            message: "unknown key \"\(name)\" in \(path)\(hint) (known here: \(known))")
    }

    private static func located(_ name: String, _ path: String) -> String { "\(name) in \(path)" }

    private static func invalid(_ name: String?, _ path: String, _ problem: String) -> ProxyConfigurationError {
        let subject = name.map { "\($0) in \(path)" } ?? "the settings file \(path)"
        return ProxyConfigurationError(
            code: .invalidSettingsFile, variable: name.map { located($0, path) }, message: "\(subject) \(problem)")
    }
}

/// The nearest known word to a misspelt one, by edit distance (Levenshtein).
enum NearMiss {
    /// The candidate within an edit distance of 2 (or a third of its length, if more) of `word`,
    /// the nearest first; else one that contains `word` or is contained in it (`enabled` for
    /// `proxy_enabled`); `nil` when none is that close.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        let scored = candidates.map { ($0, distance(Array(lowered), Array($0.lowercased()))) }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, best.0.count / 3) { return best.0 }
        guard lowered.count >= 3 else { return nil }
        return candidates.first { $0.lowercased().contains(lowered) || lowered.contains($0.lowercased()) }
    }

    /// The Levenshtein distance between `a` and `b`.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        for (i, left) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, right) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
