import ArgumentParser
import Foundation
import Repository

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage user accounts.", subcommands: [AddUser.self])
}

struct AddUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create a user account.",
        discussion: """
            The password is read from --password-file (its first line), else asked for twice at the \
            terminal, else read as one line from standard input.
            """)

    @OptionGroup var site: SiteOptions

    @Argument(help: "The login name.")
    var loginName: String

    @Option(help: "The first name.")
    var firstName: String

    @Option(help: "The last name.")
    var lastName: String

    @Option(help: "The e-mail address (never shown to other users).")
    var email: String?

    @Option(help: "A file whose first line is the password.")
    var passwordFile: String?

    func run() async throws {
        let password = try readPassword()
        let site = try await site.openSite()
        let user = try await site.metadata.createUser(
            NewUser(loginName: loginName, firstName: firstName, lastName: lastName, email: email), password: password)
        print("created \(user.loginName) (id \(user.id))")
    }

    private func readPassword() throws -> String {
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw ValidationError("cannot read the password file \(passwordFile)")
            }
            return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }
        if Terminal.isInteractive {
            let first = try Terminal.readSecret(prompt: "Password for \(loginName): ")
            let second = try Terminal.readSecret(prompt: "Again: ")
            guard first == second else { throw ValidationError("the passwords differ") }
            return first
        }
        guard let line = readLine(strippingNewline: true) else {
            throw ValidationError("no password: give --password-file, or one line on standard input")
        }
        return line
    }
}
