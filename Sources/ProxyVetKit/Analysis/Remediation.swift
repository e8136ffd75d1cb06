import Foundation

/// Concrete fixes, in the named hop's own configuration language where the evidence names the product.
enum Remediation {
    /// The domain pattern to allow for a target: the published wildcard's domain (`.manage.microsoft.com`), else the host.
    static func squidDomain(_ target: ProbeResult) -> String {
        if let wildcard = target.requiredBy.map(\.entry).first(where: { $0.hasPrefix("*.") && !$0.dropFirst(2).contains("*") }) {
            return String(wildcard.dropFirst(1))
        }
        return target.host
    }

    static func pacCondition(_ target: ProbeResult) -> String {
        let domain = squidDomain(target)
        return domain.hasPrefix(".") ? "dnsDomainIs(host, \"\(domain)\")" : "host == \"\(domain)\""
    }

    static func allow(_ target: ProbeResult, hop: Conflict.HopRef) -> String {
        let domain = squidDomain(target)
        switch hop.product {
        case "squid":
            var lines = ["On \(hop.name) (Squid), allow \(domain) before the rule that denies it:",
                         "  acl proxyvet_required dstdomain \(domain)"]
            if target.url.hasPrefix("https:") && target.port != 443 {
                lines.append("  acl SSL_ports port \(target.port)        # CONNECT to port \(target.port) must be allowed too")
            }
            lines.append("  http_access allow proxyvet_required     # above any http_access deny that matches it")
            return lines.joined(separator: "\n")
        case "tinyproxy":
            return "On \(hop.name) (tinyproxy), remove \(domain) from the Filter file (or add it with FilterDefaultDeny Yes)"
                + (target.port != 443 && target.url.hasPrefix("https:") ? " and add ConnectPort \(target.port)" : "") + ", then reload."
        default:
            return "On \(hop.name), allow \(target.url.hasPrefix("https:") ? "CONNECT to" : "requests for") \(domain) on port \(target.port)."
        }
    }

    static func noInspection(_ target: ProbeResult, hop: Conflict.HopRef) -> String {
        let domain = squidDomain(target)
        switch hop.product {
        case "squid":
            return ["On \(hop.name) (Squid), splice (do not bump) \(domain):",
                    "  acl proxyvet_nobump ssl::server_name \(domain)",
                    "  ssl_bump splice proxyvet_nobump          # before ssl_bump bump"].joined(separator: "\n")
        default:
            return "On \(hop.name), exempt \(domain) (port \(target.port)) from TLS inspection (pass the tunnel through untouched)."
        }
    }

    static func noAuth(_ target: ProbeResult, hop: Conflict.HopRef, previous: String?) -> String {
        let domain = squidDomain(target)
        var text: String
        switch hop.product {
        case "squid":
            text = ["On \(hop.name) (Squid), let \(domain) through without authentication:",
                    "  acl proxyvet_noauth dstdomain \(domain)",
                    "  http_access allow proxyvet_noauth        # before the rule with proxy_auth"].joined(separator: "\n")
        default:
            text = "On \(hop.name), exempt \(domain) (port \(target.port)) from proxy authentication."
        }
        if let previous {
            text += "\nOr, if authentication is wanted there, make \(previous) forward the client's credentials (Squid: cache_peer ... login=PASSTHRU)."
        }
        return text
    }

    static func pacRoute(_ target: ProbeResult, to route: Route?) -> String {
        let answer: String
        if let route, let host = route.proxyHost, let port = route.proxyPort {
            answer = route.kind == .https ? "HTTPS \(host):\(port)" : route.kind == .http ? "PROXY \(host):\(port)" : "SOCKS5 \(host):\(port)"
        } else {
            answer = "DIRECT"
        }
        return "In the PAC file, send \(squidDomain(target)) to a route that lets it through, before the rule that matches it now:\n"
            + "  if (\(pacCondition(target))) return \"\(answer)\";"
    }
}
