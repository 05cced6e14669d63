import Logging

/// Process-wide logging set-up, for executables only: libraries take a `Logger`, tests use an in-memory sink.
public enum Log {
    /// Installs ``OpsLogHandler/standardError(tool:format:)`` at `level` as the handler for every logger.
    ///
    /// Call it once, first thing in `main`: swift-log allows only one bootstrap per process.
    public static func bootstrap(tool: String, format: LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { _ in
            var handler = OpsLogHandler.standardError(tool: tool, format: format)
            handler.logLevel = level
            return handler
        }
    }
}
