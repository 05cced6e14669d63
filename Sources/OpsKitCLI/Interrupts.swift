import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Turns Ctrl-C and SIGTERM into cancellation of one task, so a tool can put things back before it exits.
///
/// A second signal while cleaning up is ignored: the cleanup is what keeps the old version serving.
final class Interrupts {
    private let sources: [any DispatchSourceSignal]

    /// `announce`: what to say on stderr when a signal arrives (nil: nothing).
    init(cancelling task: Task<Int32, Never>,
         announce: (@Sendable (Int32) -> String)? = { sig in
             "\n\(sig == SIGINT ? "interrupted" : "terminated"): stopping the new version, the old one keeps serving…\n"
         }) {
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if let announce { writeStderr(announce(sig)) }
                task.cancel()
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func restore() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
