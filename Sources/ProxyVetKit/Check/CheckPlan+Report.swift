import Foundation

/// What `check --plan` shows: the targets × routes a check would probe, with the device routing's answer per endpoint.
/// Nothing is sent to make it (a PAC at an http(s) URL is fetched, as a check does before probing).
public struct PlanReport: Codable, Sendable, Equatable {
    /// The version of this JSON document (docs/route-schema.md).
    public static let currentSchemaVersion = 1
    /// The file `--format json` writes into the output folder.
    public static let fileName = "proxyvet-plan.json"

    public var schemaVersion: Int
    /// Targets, routes and probes in all.
    public var summary: Summary
    /// How devices route, when declared: `source`, `pac`, `clientAddress`.
    public var devices: Devices?
    /// Every route probed, configured first, then those only the device routing named, with its number of probes.
    public var routes: [PlannedRoute]
    /// Every target in list order, with the device routing's answer and the routes that probe it.
    public var endpoints: [PlannedEndpoint]
    /// List entries that cannot be probed, with the reason.
    public var skipped: [SkippedEntry]

    public struct Summary: Codable, Sendable, Equatable {
        public var targets: Int
        public var routes: Int
        /// (route, target) pairs: the main probes. A check also sends calibration requests and TLS 1.2 probes.
        public var probes: Int
    }

    public struct Devices: Codable, Sendable, Equatable {
        /// `pac`, `default`, `environment` or `windows`.
        public var source: String
        public var pac: String?
        /// What the PAC's `myIpAddress()` returned.
        public var clientAddress: String
    }

    public struct PlannedRoute: Codable, Sendable, Equatable {
        public var name: String
        /// `scheme://host:port`; absent for direct.
        public var proxy: String?
        /// `configured`, `pac` or `windows`.
        public var origin: RouteOrigin
        public var probes: Int
    }

    public struct PlannedEndpoint: Codable, Sendable, Equatable {
        public var url: String
        public var required: Bool
        /// The device routing's answer (`PROXY a:8080; DIRECT`), when declared.
        public var answer: String?
        /// The routes devices try, in order, when declared.
        public var deviceRoutes: [String]?
        /// Every route that probes this target.
        public var routes: [String]
    }

    /// The report of `plan`, made with `config` (for the client address).
    public init(_ plan: CheckPlan, config: RouteConfig) {
        schemaVersion = Self.currentSchemaVersion
        let routes = plan.routes
        var probes: [String: Int] = [:]
        var byTarget: [String: [String]] = [:]
        for pair in plan.pairs {
            probes[pair.route.name, default: 0] += 1
            byTarget[pair.target.url, default: []].append(pair.route.name)
        }
        summary = Summary(targets: plan.targets.targets.count, routes: routes.count, probes: plan.pairs.count)
        devices = plan.routing.map {
            Devices(source: $0.source.rawValue, pac: $0.pacSource, clientAddress: config.clientAddress.text)
        }
        self.routes = routes.map { PlannedRoute(name: $0.name, proxy: $0.proxyURL, origin: $0.origin, probes: probes[$0.name] ?? 0) }
        endpoints = plan.targets.targets.map { target in
            let choice = plan.routing?.choices[target.url]
            return PlannedEndpoint(url: target.url, required: target.required, answer: choice?.answer, deviceRoutes: choice?.routes,
                                   routes: byTarget[target.url] ?? [])
        }
        skipped = plan.targets.skipped
    }

    /// Deterministic JSON: sorted keys, routes in configured order, endpoints in list order.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// The plan for the terminal: the totals, the routes with their probe counts, then one row per endpoint.
    public func text() -> String {
        var lines = ["Plan: \(summary.targets) targets × \(summary.routes) route\(summary.routes == 1 ? "" : "s") = \(summary.probes) probes. "
                        + "Nothing was sent: no calibration, no probes.",
                     "A check also sends each proxy route up to 4 calibration requests first and, for lists with minTLS, TLS 1.2 probes."]
        if let devices {
            let pac = devices.pac.map { " \($0)" } ?? ""
            lines.append(ConsoleSummary.sanitize("Device routing: \(devices.source)\(pac)"
                + (devices.source == "pac" ? ", myIpAddress() = \(devices.clientAddress)." : ".")))
        }
        lines.append("")
        var routeTable = TextTable(header: ["ROUTE", "PROXY", "ORIGIN", "PROBES"])
        for route in routes { routeTable.append([route.name, route.proxy ?? "direct", route.origin.rawValue, String(route.probes)]) }
        lines.append(routeTable.render())
        lines.append("")
        // Configured routes probe every target: they are counted, not listed, on each row.
        let everywhere = routes.filter { $0.origin == .configured }.map(\.name)
        var table = TextTable(header: ["ENDPOINT", "REQUIRED"] + (devices == nil ? [] : ["DEVICES"]) + ["ROUTES PROBED"])
        for endpoint in endpoints {
            var probed = endpoint.routes
            var cells: [String] = []
            if !everywhere.isEmpty, Set(everywhere).isSubset(of: probed) {
                probed.removeAll { everywhere.contains($0) }
                cells.append("every configured route (\(everywhere.count))")
            }
            cells += probed
            var row = [endpoint.url, endpoint.required ? "yes" : "no"]
            if devices != nil {
                let routes = endpoint.deviceRoutes.map { " → \($0.joined(separator: ", "))" } ?? ""
                row.append((endpoint.answer ?? "") + routes)
            }
            table.append(row + [cells.isEmpty ? "none" : cells.joined(separator: ", ")])
        }
        lines.append(table.render())
        lines += SkippedEntry.textLines(skipped)
        return lines.joined(separator: "\n") + "\n"
    }
}
