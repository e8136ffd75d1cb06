import ArgumentParser
import Foundation
import ProxyVetKit

/// The `proxyvet` command: a thin shell over ProxyVetKit that maps errors to documented exit codes.
///
/// Exit codes: 0 ready, 1 findings (something required is not allowed), 2 usage, config or list error.
@main
struct ProxyVet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxyvet",
        abstract: "Checks that your proxies let through every URL a managed-desktop service needs, and says which proxy and rule is at fault.",
        discussion: "Exit codes: 0 ready, 1 findings, 2 usage, config or allow-list error, 3 the run could not complete.",
        version: ProxyVetVersion.current,
        subcommands: [Check.self, RouteCommand.self, AllowListCommand.self, History.self, Schedule.self],
        defaultSubcommand: nil
    )

    static func main() {
        do {
            var command: any ParsableCommand
            do {
                command = try parseAsRoot()
            } catch where exitCode(for: error) != .success {
                // An option no command declares is reported before what ArgumentParser found first (a failed validate(),
                // a missing argument): those usually follow from the mistyped option.
                if let unknown = UnknownOption.first(in: Array(CommandLine.arguments.dropFirst()), root: self) {
                    FileHandle.standardError.write(Data((unknown.message + "\n").utf8))
                    Foundation.exit(2)
                }
                throw error
            }
            try command.run()
        } catch let error as HistoryError {
            // A file that is not a history or a run that does not exist is the user's to fix; a locked or unwritable
            // history means the run could not complete.
            FileHandle.standardError.write(Data("proxyvet: \(error)\n".utf8))
            Foundation.exit(error.isInputError ? 2 : 3)
        } catch let error as InputError {
            FileHandle.standardError.write(Data("proxyvet: \(error)\n".utf8))
            Foundation.exit(2)
        } catch let error as InputErrors {
            FileHandle.standardError.write(Data(error.errors.map { "proxyvet: \($0)\n" }.joined().utf8))
            Foundation.exit(2)
        } catch let error as LocalFailure {
            FileHandle.standardError.write(Data("proxyvet: \(error)\n".utf8))
            Foundation.exit(3)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if let exit = error as? ExitCode { Foundation.exit(exit.rawValue) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// `--tenant` (of check, route and allowlist) takes a tenant's name as in NAME.onmicrosoft.com: one label, no wildcard.
func validateTenant(_ tenant: String?) throws {
    if let tenant, tenant.isEmpty || AllowListLoader.hostProblem(tenant) != nil || tenant.contains(".") || tenant.contains("*") {
        throw ValidationError("--tenant takes your tenant's name as in NAME.onmicrosoft.com.")
    }
}
