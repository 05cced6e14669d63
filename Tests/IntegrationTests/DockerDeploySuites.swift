import Testing

/// Every test that deploys to the one Docker engine, run one after another.
///
/// `.serialized` on a parent suite applies to the suites inside it: deploys from different suites at the same
/// time would compete for two cores and the engine, and the timing of signals and health gates would suffer.
@Suite(.serialized) enum DockerDeploySuites {}
