import ArgumentParser

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the main job on the local test lab (Squid gateway, local origin, yt-dlp)."
    )

    func run() async throws {
        throw ValidationError("demo: wiring in progress")
    }
}
