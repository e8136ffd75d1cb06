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
            var command = try parseAsRoot()
            try command.run()
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
