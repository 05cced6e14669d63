import OpsCore
import Shell

/// Opens the store a ``StoreSpec`` names; S3 credentials come from the environment and are never printed.
public enum StoreFactory {
    public static func open(_ spec: StoreSpec, environment: [String: String]) throws -> BackupStore {
        switch spec {
        case .directory(let path):
            return try LocalBackupStore(directory: path)
        case .s3(let bucket, let prefix, let endpoint, let region, let partSize):
            let (credentials, _) = try StoreCredentials.fromEnvironment(environment)
            let url = endpoint ?? (region == "us-east-1" ? "https://s3.amazonaws.com" : "https://s3.\(region).amazonaws.com")
            return S3BackupStore(location: S3Location(bucket: bucket, prefix: prefix), credentials: credentials,
                                 endpoint: url, region: region, partSize: partSize)
        }
    }
}
