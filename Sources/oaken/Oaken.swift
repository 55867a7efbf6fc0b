import ArgumentParser

@main
struct Oaken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oaken",
        abstract: "A search-integrated content repository that speaks the Sakai OAE 1.2 API.",
        subcommands: [
            UserCommand.self, PutCommand.self, GetCommand.self, IndexCommand.self, SearchCommand.self, CheckCommand.self,
            GCCommand.self, StatsCommand.self, ServeCommand.self, ExtractWorkerCommand.self, BareRouteCommand.self,
        ]
    )
}
