import Jobs
import Logging
import ProxyGateway
import ServiceLifecycle

/// Lets paused components claim again after a settings reload: a component is paused when the
/// gateway refused its credentials (`auth_failure`), and a reload is how the operator gives new
/// ones. Ends on graceful shutdown.
struct ResumeOnReload: Service {
    let store: SettingsStore
    let jobs: any JobStore
    let logger: Logger

    func run() async throws {
        for await snapshot in store.updates().cancelOnGracefulShutdown() {
            for component in JobComponent.all where (try? await jobs.resume(component: component)) == true {
                logger.notice("settings reloaded: claiming resumed", metadata: [
                    "worker.component": "\(component)", "settings.generation": "\(snapshot.generation)",
                ])
            }
        }
    }
}
