import Foundation

extension ConflictAnalyzer {
    /// `tls12_refused`: a route whose TLS 1.2 probe was refused while its main probe negotiated a later version, for a
    /// target whose lists require TLS 1.2 (`minTLS: "1.2"`).
    ///
    /// The hop named is the one that terminates the target's TLS: the inspecting hop when the route re-signs the
    /// session; otherwise, when another route's TLS 1.2 probe reached the same origin, a proxy on this route that filters
    /// by TLS version (the deepest hop whose own probe is refused too, else the first); otherwise the origin itself.
    /// Severity follows the target (error when required) on a route devices use, a warning elsewhere and for the origin.
    func tlsConflicts(_ target: ProbeTarget) -> [Conflict] {
        guard let minimum = target.minTLS, minimum == .v1_2 else { return [] }
        let used = Set(usedRoutes(for: target))
        // An origin that accepted the version on some route that passes TLS through untouched.
        let originAccepts = topology.routes.contains { route in
            guard let other = index[route.name, target.url], let probe = other.tls12 else { return false }
            return probe.outcome == .accepted && !other.evidence.intercepted
        }
        var found: [Conflict] = []
        for route in topology.routes {
            guard let result = index[route.name, target.url], let probe = result.tls12, probe.outcome == .refused,
                  let negotiated = result.evidence.tlsVersion, negotiated != minimum.protocolName else { continue }
            let session = "\(negotiated)\(result.evidence.tlsCipher.map { ", \($0)" } ?? "")"
            let required = "\(Self.listNames(target)) require\(target.minTLSBy.count == 1 ? "s" : "") \(minimum.label) (minTLS)"
            let hop: String
            let explanation: String
            let remediation: String
            var severity: Conflict.Severity? = used.contains(route.name) ? nil : .warning
            if result.evidence.intercepted {
                hop = Attributor.interceptor(of: result, topology: topology, index: index)?.hop
                    ?? attributedHop(route.name, target.url)
                explanation = "\(hop), the inspecting proxy that terminates TLS for \(target.host), accepts only \(Self.label(negotiated)): "
                    + "a client offering only \(minimum.label) \(probe.summary). \(required)."
                remediation = Remediation.acceptTLS(minimum, target: result, hop: hopRef(hop), inspecting: true)
            } else if originAccepts || route.kind == .direct {
                hop = route.kind == .direct ? "direct"
                    : topology.chain(of: route.name).dropFirst().last { index[$0, target.url]?.tls12?.outcome == .refused } ?? route.name
                let who = route.kind == .direct ? "Direct egress (a firewall that filters TLS versions)" : "\(hop), a proxy that passes the tunnel on,"
                explanation = "\(who) refuses a client offering only \(minimum.label) to \(target.host) (\(Self.how(probe))) while \(Self.label(negotiated)) works"
                    + (originAccepts ? " and the origin accepts \(minimum.label) through another route" : "") + ". \(required)."
                remediation = Remediation.acceptTLS(minimum, target: result, hop: hopRef(hop), inspecting: false)
            } else {
                hop = "origin"
                severity = .warning
                explanation = "The origin \(target.host) itself refuses a client offering only \(minimum.label) (\(Self.how(probe)); no route's "
                    + "\(minimum.label) probe got through to it) while \(Self.label(negotiated)) works. \(required)."
                remediation = "Nothing to change on the proxies: every route reaches \(target.host) and its server refuses \(minimum.label). "
                    + "Ask the service's owner, or look for a firewall in front of every route that filters TLS versions."
            }
            var finding = conflict(.tls12Refused, target, severity: severity, routes: [route.name], hop: hop,
                                    evidence: "\(route.name): the main probe negotiated \(session); \(minimum.label) probe: \(probe.detail)",
                                    explanation: explanation, remediation: remediation)
            if hop == "origin" || hop == "direct" { finding = finding.withHop(Conflict.HopRef(name: hop, proxy: nil, product: "unknown")) }
            found.append(finding)
        }
        return found
    }

    /// `Microsoft Managed Desktop`, `A and B`: who sets the target's minTLS.
    static func listNames(_ target: ProbeTarget) -> String {
        let names = target.minTLSBy.isEmpty ? ["The list"] : target.minTLSBy
        return names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
    }

    /// `TLS alert "protocol version"`, or `closed during the handshake`.
    static func how(_ probe: TLSVersionProbe) -> String {
        probe.alert.map { "TLS alert \"\($0)\"" } ?? "closed during the handshake"
    }

    /// `TLSv1.3` → `TLS 1.3`.
    static func label(_ version: String) -> String {
        version.hasPrefix("TLSv") ? "TLS " + version.dropFirst(4) : version
    }
}

extension Remediation {
    /// The fix for a hop that refuses clients offering only `version`: Squid's `tls-min-version` on the bump port, in
    /// words for other products.
    static func acceptTLS(_ version: TLSVersion, target: ProbeResult, hop: Conflict.HopRef, inspecting: Bool) -> String {
        let domain = squidDomain(target)
        if inspecting && hop.product == "squid" {
            let port = hop.proxy.flatMap { URLComponents(string: $0)?.port }.map(String.init) ?? "PORT"
            return ["On \(hop.name) (Squid), let the ssl-bump port accept \(version.label) clients: set tls-min-version=\(version.rawValue) "
                    + "(or remove tls-min-version) on the port line with ssl-bump, then reconfigure:",
                    "  http_port \(port) ssl-bump ... tls-min-version=\(version.rawValue)   # the rest of the line as it is",
                    "  squid -k reconfigure"].joined(separator: "\n")
        }
        if inspecting {
            return "On \(hop.name), set the minimum TLS version of the inspection (decryption) profile's client side to \(version.label) "
                + "for \(domain), or exempt \(domain) from inspection: devices that offer at most \(version.label) are refused today."
        }
        return "On \(hop.name), stop refusing \(version.label) ClientHellos to \(domain) port \(target.port) (a TLS version rule in its "
            + "policy): devices that offer at most \(version.label) are refused today."
    }
}
