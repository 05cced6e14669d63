/// POSIX `sh` quoting: what we print in errors and what we send to the remote side of ssh.
public enum ShellQuote {
    /// Characters that never need quoting in a POSIX shell word.
    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_+=:,./-")

    /// Quotes one argument so `sh` reads it back as exactly this string.
    public static func quote(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ safe.contains($0) }) { return word }
        // Inside single quotes nothing is special but the single quote itself: close, escape, reopen.
        return "'" + word.replacing("'", with: #"'\''"#) + "'"
    }

    /// Joins an argv into one line that `sh -c` splits back into the same argv.
    public static func join(_ argv: [String]) -> String {
        argv.map(quote).joined(separator: " ")
    }
}
