import Foundation
internal import Mustache

/// One self-contained HTML file (inline CSS, no external assets) for a ticket: verdict first, per-route tables,
/// evidence on demand. Every value goes through Mustache's `{{ }}`, which escapes HTML, so nothing a proxy,
/// origin or list supplied can become markup.
public enum HTMLReport {
    public static func render(_ report: CheckReport) throws -> String {
        let template = try MustacheTemplate(string: Self.template)
        return template.render(context(report))
    }

    static func context(_ report: CheckReport) -> [String: Any] {
        let routes: [[String: Any]] = report.summary.routes.enumerated().map { index, summary in
            let info = report.routes.first { $0.name == summary.route }
            let groups = ResultGroup.of(report.results.filter { $0.route == summary.route })
            return [
                "index": index,
                "name": summary.route,
                "proxy": info?.proxy ?? "direct (no proxy)",
                "credentials": info?.credentialSource.map { "with credentials from \($0)" } ?? "",
                "calibration": report.calibration?.first { $0.route == summary.route }.map { "Calibration (\($0.status.rawValue), \($0.requests) requests): \($0.note)" } ?? "",
                "failing": summary.failingRequired,
                "counts": Verdict.allCases.compactMap { verdict -> [String: Any]? in
                    guard let count = summary.verdicts[verdict.rawValue] else { return nil }
                    return ["verdict": verdict.rawValue, "count": count, "good": verdict == .allowed]
                },
                "groups": groups.map(\.context),
            ]
        }
        let conflictGroups: [[String: Any]] = ConflictGroups.byHop(report.conflicts).map { group in
            [
                "hop": group.hop.name,
                "proxy": group.hop.proxy ?? "",
                "product": group.hop.product,
                "count": group.conflicts.count,
                "kinds": group.byKind.map { kind -> [String: Any] in
                    [
                        "kind": kind.kind.rawValue,
                        "severity": kind.severity.rawValue,
                        "error": kind.severity == .error,
                        "count": kind.conflicts.count,
                        "meaning": kind.kind.meaning,
                        "remediation": kind.conflicts.first?.remediation ?? "",
                        // The first few endpoints in view, the rest folded: a hop can have hundreds.
                        "items": kind.conflicts.prefix(Self.conflictsInView).map(item),
                        "rest": kind.conflicts.dropFirst(Self.conflictsInView).map(item),
                        "restCount": max(0, kind.conflicts.count - Self.conflictsInView),
                        "hasRest": kind.conflicts.count > Self.conflictsInView,
                    ]
                },
            ]
        }
        let changes = Self.changes(report)
        return [
            "hasChanges": !changes.isEmpty,
            "changes": changes,
            "changeLines": [report.changes?.sincePrevious, report.changes?.sinceBaseline].compactMap { $0 }.map {
                "Since run \($0.against.run) (\($0.against.generatedAt)): \($0.headline)."
            },
            "environment": Self.environment(report),
            "hasConflicts": !report.conflicts.isEmpty,
            "conflictErrors": report.summary.conflictErrors,
            "conflictWarnings": report.conflictWarnings,
            "conflictGroups": conflictGroups,
            "readinessRule": report.readinessRule,
            "ready": report.ready,
            "headline": report.ready ? "Ready" : "Not ready",
            "generatedAt": report.generatedAt,
            "duration": String(format: "%.1f", report.durationSeconds),
            "tool": "\(report.tool.name) \(report.tool.version)",
            "libcurl": "libcurl \(report.tool.libcurl), \(report.tool.tls)",
            "targets": report.summary.targets,
            "probes": report.summary.probes,
            "failingRequired": report.summary.failingRequired,
            "policyViolations": report.summary.policyViolations,
            "lists": report.lists.map { list in
                ["name": list.name, "file": list.file, "date": list.source?.date ?? "", "url": list.source?.url ?? "",
                 "hash": String(list.contentHash.prefix(16)), "endpoints": list.endpoints] as [String: Any]
            },
            "skipped": report.skipped.map { ["entry": $0.entry, "service": $0.service, "reason": $0.reason] },
            "hasSkipped": !report.skipped.isEmpty,
            "routes": routes,
            "matrixRoutes": report.summary.routes.enumerated().map { ["index": $0.offset, "name": $0.element.route] },
            "matrix": Self.matrix(report),
            "legend": Verdict.allCases.map { ["verdict": $0.rawValue, "code": $0.code, "meaning": $0.meaning] },
        ]
    }

    /// Endpoints listed per conflict kind before the rest is folded.
    static let conflictsInView = 5

    /// "Changes since the last run" and "since the baseline": one table each, worst first.
    static func changes(_ report: CheckReport) -> [[String: Any]] {
        guard let changes = report.changes else { return [] }
        return [("Changes since the last run", changes.sincePrevious), ("Changes since the baseline", changes.sinceBaseline)].compactMap { title, comparison in
            guard let comparison else { return nil }
            var rows: [[String: Any]] = []
            for (kind, list, bad) in [("newly failing", comparison.newlyFailing, true), ("verdict changed", comparison.verdictChanged, true),
                                      ("recovered", comparison.recovered, false)] {
                rows += list.map {
                    ["kind": kind, "bad": bad, "route": $0.route, "url": $0.url, "required": $0.required ? "required" : "optional",
                     "was": $0.fromState, "now": $0.toState, "reason": $0.reason]
                }
            }
            for (kind, list, bad) in [("new conflict", comparison.newConflicts, true), ("resolved conflict", comparison.resolvedConflicts, false)] {
                rows += list.map {
                    ["kind": kind, "bad": bad, "route": $0.routes.joined(separator: ", "), "url": $0.url, "required": $0.severity,
                     "was": "", "now": "\($0.kind) at \($0.hop)", "reason": $0.explanation]
                }
            }
            rows += comparison.listsChanged.map {
                ["kind": "list changed", "bad": false, "neutral": true, "route": "", "url": $0.name, "required": "",
                 "was": $0.fromDate ?? $0.fromHash.map { String($0.prefix(12)) } ?? "not probed",
                 "now": $0.toDate ?? $0.toHash.map { String($0.prefix(12)) } ?? "not probed", "reason": ""]
            }
            return ["title": title, "run": comparison.against.run, "generatedAt": comparison.against.generatedAt,
                    "wasReady": comparison.against.ready ? "ready" : "not ready", "headline": comparison.headline,
                    "rows": rows, "hasRows": !rows.isEmpty]
        }
    }

    /// The environment block: versions, lists, proxies (never credentials, only where they came from), run time.
    static func environment(_ report: CheckReport) -> [[String: String]] {
        var facts: [[String: String]] = [
            ["name": "tool", "value": "\(report.tool.name) \(report.tool.version)"],
            ["name": "libcurl", "value": "libcurl \(report.tool.libcurl), \(report.tool.tls)"],
            ["name": "run", "value": "finished \(report.generatedAt), \(String(format: "%.1f", report.durationSeconds)) s"
                + (report.changes.map { ", history run \($0.run)" } ?? "")],
            ["name": "settings", "value": "concurrency \(report.settings.concurrency), \(report.settings.perProxy) per proxy, timeout \(report.settings.timeoutSeconds) s, "
                + "connect timeout \(report.settings.connectTimeoutSeconds) s" + (report.settings.caBundle.map { ", CA bundle \($0)" } ?? "")],
        ]
        for list in report.lists {
            facts.append(["name": "list \(list.id)", "value": "\(list.name) (\(list.file)): \(list.source?.date ?? "no date"), \(list.endpoints) endpoints, sha256 \(list.contentHash)"])
        }
        for route in report.routes {
            var value = route.proxy ?? "direct (no proxy)"
            if let source = route.credentialSource { value += ", credentials from \(source)" }
            if route.chain.count > 1 { value += ", chain " + route.chain.joined(separator: " → ") }
            value += ", \(route.role)"
            facts.append(["name": "route \(route.name)", "value": value])
        }
        return facts
    }

    static func item(_ conflict: Conflict) -> [String: Any] {
        ["url": conflict.endpoint.url, "routes": conflict.routes.joined(separator: ", "),
         "explanation": conflict.explanation, "evidence": conflict.evidence, "remediation": conflict.remediation]
    }

    /// Endpoints × routes: one row per URL with what its lists say, one cell per route with the verdict's code.
    /// Every result is a cell; what is not a clean `allowed` has its evidence in the route's section.
    static func matrix(_ report: CheckReport) -> [[String: Any]] {
        let routes = report.summary.routes.map(\.route)
        // With device routing, the route a device uses for each endpoint is outlined (without, every route decides).
        let devices = report.devices != nil
        var byURL: [String: [String: ProbeResult]] = [:]
        for result in report.results { byURL[result.url, default: [:]][result.route] = result }
        return byURL.keys.sorted().map { url in
            let results = byURL[url] ?? [:]
            let target = results.values.first
            return [
                "url": url,
                "required": target?.required == true ? "required" : "optional",
                "requiredBy": target?.requiredBy.map { "\($0.list) / \($0.service) (\($0.entry))" }.joined(separator: "; ") ?? "",
                "cells": routes.map { route -> [String: Any] in
                    guard let result = results[route] else { return ["class": "", "code": ""] }
                    let mark = result.policyViolations.isEmpty ? (result.confidence == .low ? "?" : "") : "!"
                    let tone = !result.isClean && result.verdict == .allowed ? "w" : result.verdict == .allowed ? "g" : "b"
                    return ["class": tone + (result.blocksReadiness ? " x" : devices && result.decidesReadiness == true ? " d" : ""),
                            "code": result.verdict.code + mark]
                },
            ]
        }
    }

    static let template = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>ProxyVet report: {{headline}}</title>
    <style>
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
    main{max-width:1200px;margin:0 auto;padding:24px}
    .banner{border-radius:8px;padding:18px 22px;color:#fff;margin-bottom:18px}
    .banner.ready{background:#1f7a3f}.banner.notready{background:#b3261e}
    .banner h1{margin:0 0 6px;font-size:26px}.banner p{margin:0}
    section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:14px 18px;margin-bottom:16px}
    h2{font-size:18px;margin:0 0 8px}
    table{border-collapse:collapse;width:100%}
    th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef1;vertical-align:top}
    th{background:#f0f2f5;font-weight:600}
    .v{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;padding:1px 6px;border-radius:4px;background:#fde7e5;color:#8c1d18;white-space:nowrap}
    .v.good{background:#e3f4e8;color:#175c2f}.v.warn{background:#fff3d6;color:#7a5200}
    h3{font-size:15px;margin:14px 0 6px}pre{white-space:pre-wrap;font-size:12px;background:#f4f5f7;padding:6px 8px;border-radius:4px;margin:0}
    .rule{opacity:.85;font-size:13px;margin-top:6px}
    .chips span{display:inline-block;margin:0 6px 4px 0}
    .url{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
    .muted{color:#5c6573}.viol{color:#8c1d18;font-weight:600}
    details summary{cursor:pointer;color:#2d5bd3}
    dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 0}
    dt{color:#5c6573}dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
    details{margin:4px 0}td dl{margin:0}th.t,td.t{white-space:nowrap;font-size:12px;text-align:right}
    .mx{overflow:auto;max-height:80vh}table.m{width:auto}table.m td,table.m th{padding:1px 3px;font-size:11px;text-align:center}
    table.m td.url{text-align:left;min-width:260px}table.m th.rn{writing-mode:vertical-rl;transform:rotate(180deg);position:sticky;top:0}
    table.m th{position:sticky;top:0}table.m .g{background:#e3f4e8;color:#175c2f}table.m .w{background:#fff3d6;color:#7a5200}
    table.m .b{background:#fde7e5;color:#8c1d18}table.m .d{outline:2px solid #5c6573}table.m .x{outline:2px solid #b3261e}
    </style></head><body><main>
    <div class="banner {{#ready}}ready{{/ready}}{{^ready}}notready{{/ready}}">
    <h1>{{headline}}</h1>
    <p>{{targets}} targets, {{probes}} probes, {{failingRequired}} required targets failing, {{policyViolations}} policy violations, {{conflictErrors}} error conflicts, {{conflictWarnings}} warnings. Generated {{generatedAt}} in {{duration}} s by {{tool}} ({{libcurl}}).</p>
    <p class="rule">Ready means: {{readinessRule}}.</p>
    {{#changeLines}}<p class="rule">{{.}}</p>{{/changeLines}}
    </div>
    {{#hasConflicts}}
    <section><h2>Conflicts by the proxy that must change <span class="muted">— {{conflictErrors}} errors, {{conflictWarnings}} warnings</span></h2>
    {{#conflictGroups}}<h3>{{hop}} <span class="muted">{{proxy}} {{product}} — {{count}}</span></h3>
    <table><tr><th>Kind</th><th>Endpoints</th><th>Fix</th></tr>
    {{#kinds}}<tr><td><span class="v{{^error}} warn{{/error}}">{{kind}}</span><br><span class="muted">{{severity}}, {{count}}</span><br><span class="muted">{{meaning}}</span></td>
    <td>{{#items}}<details><summary class="url">{{url}}</summary><p>{{explanation}}</p><p class="muted">routes: {{routes}}</p><p class="muted">{{evidence}}</p></details>{{/items}}
    {{#hasRest}}<details><summary>{{restCount}} more endpoints</summary>{{#rest}}<details><summary class="url">{{url}}</summary><p>{{explanation}}</p><p class="muted">routes: {{routes}}</p><p class="muted">{{evidence}}</p></details>{{/rest}}</details>{{/hasRest}}</td>
    <td><pre>{{remediation}}</pre></td></tr>{{/kinds}}
    </table>{{/conflictGroups}}
    </section>
    {{/hasConflicts}}
    {{#hasChanges}}{{#changes}}
    <section><h2>{{title}} <span class="muted">— run {{run}}, {{generatedAt}}, {{wasReady}}: {{headline}}</span></h2>
    {{#hasRows}}<table><tr><th>Change</th><th>Route</th><th>URL</th><th>Was</th><th>Now</th><th>Why now</th></tr>
    {{#rows}}<tr><td><span class="v{{^bad}}{{#neutral}} warn{{/neutral}}{{^neutral}} good{{/neutral}}{{/bad}}">{{kind}}</span></td><td>{{route}}</td><td class="url">{{url}}<br><span class="muted">{{required}}</span></td><td>{{was}}</td><td>{{now}}</td><td>{{reason}}</td></tr>
    {{/rows}}</table>{{/hasRows}}
    </section>
    {{/changes}}{{/hasChanges}}
    <section><h2>Lists probed</h2><table><tr><th>List</th><th>File</th><th>Source date</th><th>Endpoints</th><th>SHA-256</th></tr>
    {{#lists}}<tr><td>{{name}}</td><td class="url">{{file}}</td><td>{{date}}</td><td>{{endpoints}}</td><td class="url">{{hash}}…</td></tr>{{/lists}}
    </table>
    {{#hasSkipped}}<p class="muted">Skipped entries:</p><ul>{{#skipped}}<li><span class="url">{{entry}}</span> ({{service}}): {{reason}}</li>{{/skipped}}</ul>{{/hasSkipped}}
    </section>
    <section><h2>Endpoints × routes</h2>
    <p class="muted">One cell per result: the verdict's code (legend at the end); <b>!</b> a policy violation, <b>?</b> low confidence; red outline: keeps the run from being ready; grey outline (with device routing): the route a device uses for the endpoint. Every result that is not a clean <span class="v good">allowed</span> has its evidence in its route's section.</p>
    <div class="mx"><table class="m"><tr><th>Endpoint</th>{{#matrixRoutes}}<th class="rn"><a href="#route-{{index}}">{{name}}</a></th>{{/matrixRoutes}}</tr>
    {{#matrix}}<tr><td class="url">{{url}} <span class="muted">{{required}}: {{requiredBy}}</span></td>{{#cells}}<td class="{{class}}">{{code}}</td>{{/cells}}</tr>
    {{/matrix}}</table></div></section>
    {{#routes}}
    <section id="route-{{index}}"><h2>Route {{name}} <span class="muted">— {{proxy}} {{credentials}}</span></h2>
    <p class="muted">{{calibration}}</p>
    <p class="chips">{{#counts}}<span class="v{{#good}} good{{/good}}">{{verdict}} {{count}}</span>{{/counts}} <span class="muted">{{failing}} required failing</span></p>
    {{#groups}}<details{{#open}} open{{/open}}><summary><span class="v{{#good}} good{{/good}}">{{verdict}}</span> ×{{count}} {{#hasFailing}}<span class="viol">{{failing}} required failing</span> {{/hasFailing}}{{headline}}</summary>
    <dl>{{#shared}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/shared}}</dl>
    {{#hasRows}}<table><tr><th>URL</th><th>Its own evidence</th><th class="t">connect / TLS / first byte / total (s)</th></tr>
    {{#rows}}<tr><td class="url">{{url}}<br><span class="muted">{{required}}{{#policyProbe}}, policy probe{{/policyProbe}}{{#policy}} {{.}}{{/policy}}</span>{{#violations}} <span class="viol">{{.}}</span>{{/violations}}</td><td><dl>{{#facts}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/facts}}</dl></td><td class="t">{{timings}}</td></tr>
    {{/rows}}</table>{{/hasRows}}
    {{#hasURLs}}<p class="url muted">{{urls}}</p>{{/hasURLs}}{{#isRest}}<p class="muted">The endpoints: every other <span class="v good">ok</span> cell of this route's column in the matrix.</p>{{/isRest}}
    {{#good}}<p class="muted">What differs per endpoint (certificate subject, timings) is in the JSON report.</p>{{/good}}
    </details>
    {{/groups}}</section>
    {{/routes}}
    <section><h2>Environment</h2><dl>{{#environment}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/environment}}</dl></section>
    <section><h2>Verdicts</h2><table>{{#legend}}<tr><td><span class="v">{{verdict}}</span></td><td>{{code}}</td><td>{{meaning}}</td></tr>{{/legend}}</table></section>
    </main></body></html>

    """
}
