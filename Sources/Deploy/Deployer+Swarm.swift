import OpsCore
import Shell

extension Deployer {
    /// The checks before a Swarm release (a manager answers, the stack file is readable).
    func checkSwarmTarget(image: String, create: Bool) async throws -> Context {
        throw DeployError.precheck("engine: swarm is not built yet")
    }

    func swarmRelease(_ deployment: inout Deployment, current: Deployment?, options: DeployOptions, context: Context)
        async throws
    {
        throw DeployError.precheck("engine: swarm is not built yet")
    }

    func swarmRevert(_ staged: Staged) async throws {
        throw DeployError.precheck("engine: swarm is not built yet")
    }

    func swarmPlan(_ options: DeployOptions, context: Context) async throws -> [String] {
        throw DeployError.precheck("engine: swarm is not built yet")
    }
}
