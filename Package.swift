// swift-tools-version:6.0
import PackageDescription

// One multi-call executable (`opskit`) carries every tool; `bin/<tool>` are links to it and it dispatches
// on the name it was called by (busybox style). Eight statically linked binaries would cost ~8× the
// Swift runtime; see README "Why one binary".
let package = Package(
    name: "opskit",
    products: [
        .executable(name: "opskit", targets: ["opskit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        // FilePath for swift-subprocess's file-descriptor I/O; named here because Shell imports it.
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        // SHA-256, HMAC (S3 SigV4) and X25519/ChaCha20-Poly1305/HKDF (age encryption) for backups.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // The C libraries, each wrapped once (only OpsCore's HTTP/Archive and Backup's SQLite import them) and
        // loaded on first use instead of at process start: see Sources/CLazyLoad/include/CLazyLoad.h. Their
        // headers come from the -dev packages (scripts/lib.sh); at run time only the libraries are needed.
        .target(name: "CLazyLoad"),
        .target(name: "CCurl", dependencies: ["CLazyLoad"]),
        .target(name: "CArchive", dependencies: ["CLazyLoad"]),
        // SQLite's online backup API, for consistent snapshots of live databases (backup-db).
        .target(name: "CSQLite", dependencies: ["CLazyLoad"]),
        .target(name: "CZstd", dependencies: ["CLazyLoad"]),

        // The tiny helper library: processes, pipes, retry, ssh, prompt, log, lock, atomic files.
        .target(
            name: "Shell",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The domain vocabulary every tool shares: config, HTTP (libcurl), health model.
        .target(
            name: "OpsCore",
            dependencies: [
                // CArchive for the tar format (and gzip); CZstd for zstd, which we drive ourselves because
                // Debian's libarchive compresses zstd on one thread. libarchive brings libxml2 and ICU along.
                "Shell", "CCurl", "CArchive", "CZstd", "PlainHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // One library per job.
        .target(name: "Health", dependencies: ["OpsCore", "Shell", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Deploy", dependencies: ["OpsCore", "Shell", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Backup", dependencies: ["OpsCore", "Shell", "CSQLite", .product(name: "Logging", package: "swift-log")]),
        // A small HTTP/1.1 client on POSIX sockets (http:// and Unix sockets), for tools that must start
        // without loading libcurl. Depends on nothing: no OpsCore, no C wrappers.
        .target(name: "PlainHTTP"),
        .target(name: "Monitor", dependencies: ["OpsCore", "Shell", "Backup", .product(name: "Logging", package: "swift-log")]),
        // setup-vps: the steps of a first server setup, each idempotent and checkable, over a Target.
        .target(name: "Provision", dependencies: ["OpsCore", "Shell"]),
        // version-tag: semantic versions, Conventional Commits, version files, changelog, tags.
        .target(name: "Release", dependencies: ["OpsCore", "Shell"]),

        // Argument parsing for every tool, thin: parse, call a library, map errors to exit codes.
        .target(
            name: "OpsKitCLI",
            dependencies: [
                "Health", "Deploy", "Backup", "Monitor", "Provision", "Release", "OpsCore", "Shell",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "opskit", dependencies: ["OpsKitCLI"]),

        // Starts the real services tests drive (nginx, sshd) through the scripts in scripts/services.
        .target(
            name: "TestSupport",
            dependencies: ["Shell", "OpsCore", .product(name: "Subprocess", package: "swift-subprocess")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "ShellTests", dependencies: ["Shell", "TestSupport", .product(name: "Subprocess", package: "swift-subprocess")]),
        .testTarget(name: "OpsCoreTests", dependencies: ["OpsCore", "Shell", "TestSupport", "CArchive"]),
        .testTarget(name: "HealthTests", dependencies: ["Health", "OpsCore", "TestSupport"]),
        .testTarget(name: "DeployTests", dependencies: ["Deploy", "OpsCore", "Shell", "TestSupport"]),
        .testTarget(name: "BackupTests", dependencies: ["Backup", "OpsCore", "Shell", "TestSupport"]),
        .testTarget(name: "PlainHTTPTests", dependencies: ["PlainHTTP", "TestSupport", "Shell"]),
        .testTarget(name: "MonitorTests", dependencies: ["Monitor", "Backup", "OpsCore", "Shell", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ProvisionTests", dependencies: ["Provision", "OpsCore", "Shell", "TestSupport"]),
        .testTarget(name: "ReleaseTests", dependencies: ["Release", "OpsCore", "Shell", "TestSupport"], exclude: ["Fixtures"]),
        // Argument handling of the tools, below the executable (the quick parsers against argument-parser).
        .testTarget(name: "OpsKitCLITests", dependencies: ["OpsKitCLI", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Drive the built executable against real servers; depends on `opskit` so it is built first.
        .testTarget(name: "IntegrationTests", dependencies: ["opskit", "OpsCore", "Shell", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
