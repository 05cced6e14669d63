/// Facts about this build of opskit.
public enum OpsKit {
    public static let version = "0.1.0"
}
