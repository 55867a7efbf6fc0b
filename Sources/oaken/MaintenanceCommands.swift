import ArgumentParser
import Foundation
import Repository

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the repository: database integrity, every blob present and intact, nothing left over.",
        discussion: "Prints one line per problem. The exit status is 0 when there is none, else 1.")

    @OptionGroup var site: SiteOptions

    @Flag(help: "Compare stored lengths only; do not re-hash every blob.")
    var quick = false

    func run() async throws {
        let site = try await site.openSite()
        let problems = try await site.check(verifyContents: !quick)
        for problem in problems {
            print(problem)
        }
        if problems.isEmpty {
            print("ok")
        } else {
            let repairable = problems.allSatisfy(\.isGarbage)
            writeError("\(problems.count) problem(s)\(repairable ? "; `oaken gc` removes them" : "")\n")
            throw ExitCode.failure
        }
    }
}

struct GCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove blobs that no item references and uploads that were never finished.",
        discussion: "Safe to run beside a server or an `oaken put` on the same data folder.")

    @OptionGroup var site: SiteOptions

    func run() async throws {
        let site = try await site.openSite()
        let report = try await site.collectGarbage()
        print("removed \(report.removedBlobs.count) blob(s) and \(report.removedWrites) abandoned upload(s)")
    }
}

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Count users, groups, items, blobs and bytes.")

    @OptionGroup var site: SiteOptions

    @Flag(help: "Print JSON, for scripts.")
    var json = false

    func run() async throws {
        let site = try await site.openSite()
        let stats = try await site.metadata.statistics()
        let rows: [(String, Int64)] = [
            ("users", Int64(stats.users)), ("groups", Int64(stats.groups)), ("items", Int64(stats.items)),
            ("versions", Int64(stats.versions)), ("blobs", Int64(stats.blobs)),
            ("storedBytes", stats.storedBytes), ("logicalBytes", stats.logicalBytes),
            ("bytesSavedByDeduplication", stats.bytesSavedByDeduplication),
        ]
        if json {
            print("{" + rows.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
        } else {
            for (name, value) in rows {
                print(name.padding(toLength: 28, withPad: " ", startingAt: 0) + String(value))
            }
        }
    }
}
