import Foundation

/// Microsoft 365 Optimize traffic. Microsoft's connectivity principles send the Optimize endpoint sets out of the
/// network directly, past proxies, TLS inspection and proxy authentication (the Managed Desktop network page: "send
/// trusted Microsoft 365 traffic past authentication and inspection"). A proxy on the way still lets the endpoint
/// through, so each case is a warning: it never changes readiness.
extension ConflictAnalyzer {
    /// One `optimize_not_direct` warning per Optimize target and route a device uses (the effective route with device
    /// routing, else every route that decides readiness) that is a proxy, or a direct route whose TLS is intercepted.
    func optimizeConflicts(_ target: ProbeTarget) -> [Conflict] {
        guard target.isOptimize else { return [] }
        return usedRoutes(for: target).compactMap { name -> Conflict? in
            guard let result = index[name, target.url] else { return nil }
            let route = topology.route(name) ?? routing?.extraRoutes.first { $0.name == name }
            let isDirect = route?.kind == .direct
            // A refusal inside a re-signed session is still an inspected one.
            let intercepted = result.evidence.intercepted || result.proxyAction == .intercepted
            let challenged = result.evidence.authChallenged
            let credentials = route?.authenticates ?? false
            // Direct and not inspected is what Microsoft asks for; a direct failure is the verdict's (and pac_direct_blocked's).
            guard !isDirect || intercepted else { return nil }

            // The hop that re-signs, and the hop that challenged (a chain's parent when the attribution names it).
            let inspecting = intercepted ? Attributor.interceptor(of: result, topology: topology, index: index)?.hop ?? name : nil
            let authenticating = challenged ? attributedHop(name, target.url) : name
            let hop = inspecting ?? authenticating
            let ca = result.evidence.certificate.map { Classifier.commonName($0.issuer) } ?? "an unknown CA"
            let schemes = result.evidence.authSchemes.isEmpty ? "" : ": \(result.evidence.authSchemes.joined(separator: ", "))"
            let inspection = intercepted ? "intercepted (certificate issued by \(ca))" : "not intercepted"
            let authentication = challenged
                ? "authenticated (407\(schemes)\(credentials ? "; the route's credentials answer it" : "; the route has no credentials"))"
                : credentials ? "authenticated (the route sends credentials)" : "not authenticated"
            let url = route?.proxyURL ?? name
            let choice = routing?.choices[target.url]
            var facts: [String] = []
            if let inspecting { facts.append("\(inspecting == name ? "which" : "whose hop \(inspecting)") intercepts its TLS (certificate issued by \(ca))") }
            if challenged {
                facts.append("\(authenticating == name ? "which" : "whose hop \(authenticating)") demands proxy authentication (407\(schemes))")
            } else if credentials {
                facts.append("to which the route authenticates")
            }
            let detail = facts.isEmpty ? "; it is neither intercepted nor authenticated there" : ", " + facts.joined(separator: " and ")
            let path: String
            if isDirect {
                path = "on \(name)\(choice.map { ", the route devices use (\($0.answer))," } ?? "") its TLS is intercepted on the way "
                    + "(certificate issued by \(ca)): an inspection device sits on the direct path"
            } else if let choice {
                path = "devices send it through the proxy \(name) (\(url); \(choice.answer))\(detail)"
            } else {
                path = "the route \(name) (\(url)), which decides readiness (no device routing declared), is a proxy\(detail)"
            }
            return conflict(.optimizeNotDirect, target, severity: .warning, routes: [name], hop: hop,
                            evidence: "\(name) (\(route?.proxyURL ?? "direct")): \(isDirect ? "direct" : "proxy"), \(inspection), \(authentication); "
                                + "verdict \(result.verdict.rawValue) (\(result.proxyAction.label)): \(result.reason)",
                            explanation: "\(target.host) is a Microsoft 365 Optimize endpoint, which Microsoft's connectivity principles send out "
                                + "directly (no proxy, no TLS inspection, no proxy authentication), but \(path).",
                            remediation: Remediation.optimizeDirect(result, direct: isDirect, source: routing?.source,
                                                                    inspecting: inspecting.map(hopRef),
                                                                    authenticating: challenged || credentials ? hopRef(authenticating) : nil))
        }
    }
}

extension Remediation {
    /// Microsoft's guidance for an Optimize endpoint: bypass the proxy (a PAC `DIRECT` line, or `NO_PROXY` where devices
    /// take the environment's proxy), and as long as it goes through the proxies, no TLS inspection on the `inspecting`
    /// hop (Squid: `ssl_bump splice`) and no proxy authentication on the `authenticating` one. On a direct route only the
    /// inspection is left to remove.
    static func optimizeDirect(_ target: ProbeResult, direct: Bool, source: DeviceRouting.Source?, inspecting: Conflict.HopRef?,
                               authenticating: Conflict.HopRef?) -> String {
        let domain = squidDomain(target)
        let firewall = "and allow direct egress to it on the firewall"
        var parts: [String] = []
        if !direct {
            switch source {
            case .environment?:
                parts.append("Add \(domain) to NO_PROXY on the devices, \(firewall).")
            case .windows?:
                // Windows exceptions match the whole name: a domain's subdomains are *.domain.
                parts.append("Add \(domain.hasPrefix(".") ? "*" + domain : domain) to the exceptions of the Windows proxy setting (MMD: Settings → Proxy; Intune: the proxy profile), \(firewall).")
            case .pac?:
                parts.append("In the PAC file, send \(domain) DIRECT before the rule that matches it now, \(firewall):")
                parts.append("  if (\(pacCondition(target))) return \"DIRECT\";")
            case .defaultRoute?, nil:
                parts.append("Send \(domain) DIRECT in the devices' proxy configuration (a PAC file line or a proxy exception), \(firewall):")
                parts.append("  if (\(pacCondition(target))) return \"DIRECT\";")
            }
            if inspecting != nil || authenticating != nil { parts.append("As long as it goes through a proxy:") }
        }
        if let inspecting { parts.append(noInspection(target, hop: inspecting)) }
        if let authenticating { parts.append(noAuth(target, hop: authenticating, previous: nil)) }
        return parts.joined(separator: "\n")
    }
}
