import ArgumentParser
import Foundation
import ProxyVetKit

/// `check --plan`: what a check would probe, and nothing sent.
extension Check {
    /// --plan writes no reports but its own: text on stdout and, with --format json, proxyvet-plan.json; --client-ip
    /// names the one site a check runs for.
    func validatePlanOptions() throws {
        if routing.clientIP.count > 1 {
            throw ValidationError("check runs for one site: give one --client-ip (proxyvet route takes several, one column a site).")
        }
        if plan, let other = format.first(where: { $0 != ReportFormat.json.rawValue }) {
            throw ValidationError("--plan writes the plan as text and, with --format json, as \(PlanReport.fileName); --format \(other) needs probes.")
        }
    }

    /// The routes the command line names, for the library to read (`RouteInput.load`).
    func routeInput() throws -> RouteInput {
        RouteInput(configFile: config, proxies: proxy, credentials: proxyCredentials, direct: direct, windowsProxy: windowsProxy,
                   windowsExceptions: windowsExceptions, pac: routing.pac, clientAddress: try routing.clientAddresses().first)
    }

    /// Plans the check as `run` would (lists, routes, device routing, pairs) and shows it; sends nothing.
    func showPlan() throws {
        let routeConfig = try routeInput().load()
        let allowLists = try AllowListLoader.load(files: lists)
        let checkPlan = try CheckPlan(lists: allowLists, config: routeConfig, tenant: tenant, environment: ProcessInfo.processInfo.environment)
        let report = PlanReport(checkPlan, config: routeConfig)
        if !quiet { print(report.text(), terminator: "") }
        guard format.contains(ReportFormat.json.rawValue) else { return }
        // A plan that cannot be written is this machine's problem (exit code 3), as for reports.
        let file = URL(fileURLWithPath: output, isDirectory: true).appendingPathComponent(PlanReport.fileName)
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try ReportWriter.writeAtomically(try report.json(), to: file, what: "the plan")
        } catch {
            throw LocalFailure("\(output): cannot write the plan: \(error)")
        }
        if !quiet { print("\nPlan: \(file.path)") }
    }
}
