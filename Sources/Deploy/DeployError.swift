/// Why a deploy or rollback stopped, in one line that says what is still serving and what to do.
public enum DeployError: Error, Sendable, CustomStringConvertible {
    case unhealthy(version: String, url: String, after: String, detail: String, serving: String)
    case watchFailed(version: String, detail: String, serving: String)
    case proxyConfig(command: String, reason: String, serving: String)
    case proxyReload(command: String, reason: String, serving: String)
    case composeFileMissing(path: String, target: String)
    case nothingToRollBack(environment: String)
    case unknownDeployment(String, environment: String)
    case interrupted(serving: String)
    case step(String, reason: String, serving: String)
    case hook(String, reason: String, serving: String)
    /// The new version failed and the old one could not be brought back: a person must look now.
    case nothingHealthy(String)
    /// A check before anything changed failed.
    case precheck(String)

    public var description: String {
        switch self {
        case .unhealthy(let version, let url, let after, let detail, let serving):
            return "\(version) did not become healthy at \(url) within \(after) (\(detail)); it was stopped and \(serving) keeps serving"
        case .watchFailed(let version, let detail, let serving):
            return "\(version) went live but failed its health watch (\(detail)); switched back, \(serving) is serving"
        case .proxyConfig(let command, let reason, let serving):
            return "`\(command)` rejected the new upstream (\(reason)); the previous nginx config was restored and \(serving) keeps serving"
        case .proxyReload(let command, let reason, let serving):
            return "`\(command)` failed (\(reason)); the previous nginx config was restored and \(serving) keeps serving"
        case .composeFileMissing(let path, let target):
            return "the compose file \(path) does not exist on \(target); nothing was changed"
        case .nothingToRollBack(let environment):
            return "\(environment) has no earlier successful deployment to roll back to (see `rollback \(environment) --list`)"
        case .unknownDeployment(let id, let environment):
            return "no deployment or tag `\(id)` in \(environment)'s history (see `rollback \(environment) --list`)"
        case .interrupted(let serving):
            return "interrupted; the new version was stopped and \(serving) keeps serving"
        case .step(let step, let reason, let serving):
            return "\(step) failed: \(reason); \(serving) keeps serving"
        case .hook(let name, let reason, let serving):
            return "the \(name) hook failed (\(reason)); nothing was switched, \(serving) keeps serving"
        case .nothingHealthy(let reason):
            return "\(reason) — nothing healthy is serving now; check the app by hand"
        case .precheck(let reason):
            return "\(reason) — nothing was changed"
        }
    }
}
