import Release
import Shell
import Testing
import TestSupport

/// Every rewrite is compared byte for byte with the whole expected file: changing anything but the version
/// text (indentation, order, line endings, a missing final newline, comments) is the failure these catch.
@Suite struct VersionFilesTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Rewrites `input` to `version`, expects exactly `expected`, and that reading it back gives `version`.
    func expectRewrite(
        _ kind: VersionFileKind, _ input: String, to version: String, _ expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let output = try VersionFiles.rewrite(kind, bytes(input), to: version)
        #expect(output == bytes(expected), "got:\n\(String(decoding: output, as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(try VersionFiles.read(kind, output) == version, sourceLocation: sourceLocation)
    }

    /// The error `read` throws; it must be one line and name the file's role.
    func readError(_ kind: VersionFileKind, _ input: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            let version = try VersionFiles.read(kind, bytes(input))
            Issue.record("expected an error, read \(version)", sourceLocation: sourceLocation)
            return ""
        } catch let error as VersionFileError {
            #expect(!error.message.contains("\n") && !error.message.contains("\r"), sourceLocation: sourceLocation)
            #expect(error.description == error.message, sourceLocation: sourceLocation)
            return error.message
        } catch {
            Issue.record("expected a VersionFileError, got \(error)", sourceLocation: sourceLocation)
            return ""
        }
    }

    // MARK: - package.json

    @Test func packageJSONTwoSpaces() throws {
        try expectRewrite(
            .packageJSON,
            """
            {
              "name": "demo",
              "version": "1.2.3",
              "private": true
            }

            """, to: "1.3.0",
            """
            {
              "name": "demo",
              "version": "1.3.0",
              "private": true
            }

            """)
    }

    @Test func packageJSONFourSpacesAndATab() throws {
        try expectRewrite(
            .packageJSON, "{\n    \"name\": \"demo\",\n    \"version\": \"0.0.1\"\n}\n", to: "1.0.0-rc.1",
            "{\n    \"name\": \"demo\",\n    \"version\": \"1.0.0-rc.1\"\n}\n")
        try expectRewrite(
            .packageJSON, "{\n\t\"version\"  :\t\"0.0.1\",\n\t\"name\": \"demo\"\n}\n", to: "0.0.2",
            "{\n\t\"version\"  :\t\"0.0.2\",\n\t\"name\": \"demo\"\n}\n")
    }

    @Test func packageJSONWithoutTrailingNewlineAndCompact() throws {
        try expectRewrite(
            .packageJSON, #"{"name":"demo","version":"1.2.3"}"#, to: "2.0.0", #"{"name":"demo","version":"2.0.0"}"#)
        try expectRewrite(
            .packageJSON, "{\n  \"version\": \"1.2.3\"\n}", to: "1.2.4", "{\n  \"version\": \"1.2.4\"\n}")
    }

    @Test func packageJSONCRLF() throws {
        try expectRewrite(
            .packageJSON, "{\r\n  \"name\": \"demo\",\r\n  \"version\": \"1.2.3\"\r\n}\r\n", to: "1.2.4",
            "{\r\n  \"name\": \"demo\",\r\n  \"version\": \"1.2.4\"\r\n}\r\n")
    }

    @Test func packageJSONNestedVersionsBeforeAndAfterAreUntouched() throws {
        try expectRewrite(
            .packageJSON,
            #"""
            {
              "name": "demo",
              "scripts": {
                "version": "npm run build && git add -A dist",
                "postversion": "git push"
              },
              "engines": { "version": "9.9.9" },
              "version": "1.2.3",
              "dependencies": {
                "left-pad": { "version": "1.3.0" }
              },
              "config": [{ "version": "0.0.0" }, ["version", "1.2.3"]],
              "publishConfig": { "nested": { "version": "7.7.7" } }
            }

            """#, to: "1.2.4",
            #"""
            {
              "name": "demo",
              "scripts": {
                "version": "npm run build && git add -A dist",
                "postversion": "git push"
              },
              "engines": { "version": "9.9.9" },
              "version": "1.2.4",
              "dependencies": {
                "left-pad": { "version": "1.3.0" }
              },
              "config": [{ "version": "0.0.0" }, ["version", "1.2.3"]],
              "publishConfig": { "nested": { "version": "7.7.7" } }
            }

            """#)
    }

    @Test func packageJSONVersionInsideAStringValue() throws {
        try expectRewrite(
            .packageJSON,
            #"""
            {
              "description": "set \"version\": \"0.0.1\" in {\"version\": \"0.0.2\"}",
              "main": "version",
              "keywords": ["version", "\\", "\\\"version\": \"3\""],
              "version": "1.0.0"
            }
            """#, to: "1.1.0",
            #"""
            {
              "description": "set \"version\": \"0.0.1\" in {\"version\": \"0.0.2\"}",
              "main": "version",
              "keywords": ["version", "\\", "\\\"version\": \"3\""],
              "version": "1.1.0"
            }
            """#)
    }

    @Test func packageJSONUnicodeEscapesAndRawUnicodeInOtherStrings() throws {
        try expectRewrite(
            .packageJSON,
            #"""
            {
              "author": "Ren\u00e9 \ud83d\ude00 \"q\" \/ \b\f\n\r\t",
              "contributors": ["Zoë", "日本語", "😀"],
              "version": "1.0.0"
            }

            """#, to: "1.0.1",
            #"""
            {
              "author": "Ren\u00e9 \ud83d\ude00 \"q\" \/ \b\f\n\r\t",
              "contributors": ["Zoë", "日本語", "😀"],
              "version": "1.0.1"
            }

            """#)
    }

    /// JSON.parse reads an escaped key as the same key, so npm would see this as the version.
    @Test func packageJSONEscapedKeyAndByteOrderMark() throws {
        try expectRewrite(.packageJSON, #"{"versio\u006e": "1.0.0"}"#, to: "1.0.1", #"{"versio\u006e": "1.0.1"}"#)
        try expectRewrite(.packageJSON, "\u{FEFF}{\"version\": \"1.0.0\"}\n", to: "2.0.0", "\u{FEFF}{\"version\": \"2.0.0\"}\n")
    }

    @Test func packageJSONReadsTheTopLevelVersion() throws {
        #expect(try VersionFiles.read(.packageJSON, bytes(#"{"dependencies": {"version": "9"}, "version": "1.2.3-beta.1+build.5"}"#)) == "1.2.3-beta.1+build.5")
    }

    @Test func packageJSONNewVersionIsEscaped() throws {
        let output = try VersionFiles.rewrite(.packageJSON, bytes(#"{"version": "1"}"#), to: #"a"b\c"#)
        #expect(output == bytes(#"{"version": "a\"b\\c"}"#))
        #expect(try VersionFiles.read(.packageJSON, output) == #"a"b\c"#)
    }

    @Test func packageJSONMissingDuplicateOrNotAString() {
        #expect(readError(.packageJSON, "{\n  \"name\": \"demo\",\n  \"deps\": {\"version\": \"1\"}\n}\n") == #"package.json: no top-level "version" field"#)
        #expect(readError(.packageJSON, #"{"version": "1.0.0", "version": "1.0.1"}"#) == #"package.json: top-level "version" appears twice"#)
        #expect(readError(.packageJSON, #"{"version": 1}"#) == #"package.json: top-level "version" is not a string"#)
        #expect(readError(.packageJSON, #"[{"version": "1.0.0"}]"#) == "package.json: the top level is not a JSON object")
        #expect(throws: VersionFileError.self) { try VersionFiles.rewrite(.packageJSON, bytes("{}"), to: "1.0.0") }
    }

    @Test func malformedJSONIsAnErrorNotACrash() {
        #expect(readError(.packageJSON, "{\n  \"name\": \"demo,\n  \"version\": \"1.0.0\"\n}\n").hasPrefix("package.json: invalid JSON at line "))
        #expect(readError(.packageJSON, "{\"version\": \"1.0.0") == "package.json: invalid JSON at line 1, column 19: unterminated string that starts at line 1, column 13")
        #expect(readError(.packageJSON, "{\"version\": \"1.0.0\"") == "package.json: invalid JSON at line 1, column 20: expected ',' or '}' after an object member, found the end of the file")
        #expect(readError(.packageJSON, "{\"version\": \"1.0.0\"}}") == "package.json: invalid JSON at line 1, column 21: unexpected text after the top-level value")
        #expect(readError(.packageJSON, "{\"version\": \"1.0.0\",}").hasPrefix("package.json: invalid JSON at line 1, column 21: expected a string key"))
        #expect(readError(.packageJSON, "{\"a\": \"\\q\", \"version\": \"1\"}").contains("invalid escape"))
        #expect(readError(.packageJSON, "{\"a\": \"\\u12\", \"version\": \"1\"}").contains("four hex digits"))
        #expect(readError(.packageJSON, "{\"a\": 01, \"version\": \"1\"}").contains("invalid JSON"))
        #expect(readError(.packageJSON, "{\"a\": \"tab\tinside\", \"version\": \"1\"}").contains("control character"))
        #expect(readError(.packageJSON, "").contains("unexpected end of input"))
        #expect(readError(.packageJSON, "{\"a\": " + String(repeating: "[", count: 100_000)).contains("nested more than 512 levels"))
    }

    // MARK: - package-lock.json

    @Test func packageLockV1ChangesOnlyTheTopLevelVersion() throws {
        try expectRewrite(
            .packageLock,
            """
            {
              "name": "demo",
              "version": "1.2.3",
              "lockfileVersion": 1,
              "requires": true,
              "dependencies": {
                "left-pad": {
                  "version": "1.3.0",
                  "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
                  "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEQwM=="
                }
              }
            }

            """, to: "1.3.0",
            """
            {
              "name": "demo",
              "version": "1.3.0",
              "lockfileVersion": 1,
              "requires": true,
              "dependencies": {
                "left-pad": {
                  "version": "1.3.0",
                  "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
                  "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEQwM=="
                }
              }
            }

            """)
    }

    @Test func packageLockV2ChangesBothFields() throws {
        try expectRewrite(
            .packageLock,
            """
            {
              "name": "demo",
              "version": "1.2.3",
              "lockfileVersion": 2,
              "requires": true,
              "packages": {
                "node_modules/aaa": {
                  "version": "1.2.3"
                },
                "": {
                  "name": "demo",
                  "version": "1.2.3",
                  "dependencies": {
                    "left-pad": "^1.3.0"
                  }
                },
                "node_modules/left-pad": {
                  "version": "1.3.0"
                }
              },
              "dependencies": {
                "left-pad": {
                  "version": "1.3.0"
                }
              }
            }

            """, to: "1.3.0",
            """
            {
              "name": "demo",
              "version": "1.3.0",
              "lockfileVersion": 2,
              "requires": true,
              "packages": {
                "node_modules/aaa": {
                  "version": "1.2.3"
                },
                "": {
                  "name": "demo",
                  "version": "1.3.0",
                  "dependencies": {
                    "left-pad": "^1.3.0"
                  }
                },
                "node_modules/left-pad": {
                  "version": "1.3.0"
                }
              },
              "dependencies": {
                "left-pad": {
                  "version": "1.3.0"
                }
              }
            }

            """)
    }

    @Test func packageLockV3ChangesBothFieldsWithCRLFAndTabs() throws {
        let before = """
            {
            \t"name": "demo",
            \t"version": "0.9.0",
            \t"lockfileVersion": 3,
            \t"requires": true,
            \t"packages": {
            \t\t"": {
            \t\t\t"name": "demo",
            \t\t\t"version": "0.9.0",
            \t\t\t"license": "MIT"
            \t\t},
            \t\t"node_modules/demo-dep": {
            \t\t\t"version": "0.9.0",
            \t\t\t"dev": true
            \t\t}
            \t}
            }
            """
        let after = before.replacingFirstTwo("\"version\": \"0.9.0\"", with: "\"version\": \"1.0.0\"")
        #expect(after != before)
        try expectRewrite(
            .packageLock, before.split(separator: "\n").joined(separator: "\r\n"), to: "1.0.0",
            after.split(separator: "\n").joined(separator: "\r\n"))
    }

    @Test func packageLockReadsTheTopLevelVersionAndNeedsTheRootPackageVersion() throws {
        #expect(try VersionFiles.read(.packageLock, bytes(#"{"version": "1.0.0", "lockfileVersion": 3, "packages": {"": {"version": "1.0.0"}}}"#)) == "1.0.0")
        #expect(readError(.packageLock, #"{"name": "demo", "lockfileVersion": 3, "packages": {"": {"version": "1.0.0"}}}"#) == #"package-lock.json: no top-level "version" field"#)
        #expect(readError(.packageLock, #"{"version": "1.0.0", "lockfileVersion": 3, "packages": {"": {"name": "demo"}}}"#)
            == #"package-lock.json: lockfileVersion 3 but no packages[""].version; regenerate the lockfile with npm install"#)
        #expect(readError(.packageLock, #"{"version": "1.0.0", "lockfileVersion": 2, "packages": {"": {"version": "1"}, "": {}}}"#)
            == #"package-lock.json: packages[""] appears twice"#)
    }

    // MARK: - Cargo.toml

    @Test func cargoPackageVersionOnly() throws {
        try expectRewrite(
            .cargoToml,
            """
            [dependencies.bar]
            version = "2"
            features = ["x"]

            [package]
            name = "demo"
            version = "0.1.0" # bumped by version-tag
            edition = "2021"
            description = \"\"\"
            [package]
            version = "9.9.9"
            \"\"\"
            keywords = [
              ["nested"], # a comment ] with a bracket
              'version = "8"',
            ]

            [dependencies]
            foo = { version = "1", features = ["a"] }
            serde = "1.0"

            [target.'cfg(unix)'.dependencies]
            version = "3"

            [[bin]]
            name = "demo"
            version = "4"

            """, to: "0.2.0",
            """
            [dependencies.bar]
            version = "2"
            features = ["x"]

            [package]
            name = "demo"
            version = "0.2.0" # bumped by version-tag
            edition = "2021"
            description = \"\"\"
            [package]
            version = "9.9.9"
            \"\"\"
            keywords = [
              ["nested"], # a comment ] with a bracket
              'version = "8"',
            ]

            [dependencies]
            foo = { version = "1", features = ["a"] }
            serde = "1.0"

            [target.'cfg(unix)'.dependencies]
            version = "3"

            [[bin]]
            name = "demo"
            version = "4"

            """)
    }

    @Test func cargoSingleQuotesSpacedHeaderAndCRLF() throws {
        try expectRewrite(
            .cargoToml, "# manifest\r\n[ package ] # the crate\r\nname = 'demo'\r\nversion\t=\t'1.0.0'\t# keep\r\n", to: "1.1.0",
            "# manifest\r\n[ package ] # the crate\r\nname = 'demo'\r\nversion\t=\t'1.1.0'\t# keep\r\n")
        try expectRewrite(
            .cargoToml, "[\"package\"]\nversion = \"1.0.0\"", to: "1.0.1", "[\"package\"]\nversion = \"1.0.1\"")
    }

    @Test func cargoWorkspaceInheritedVersionIsAnError() {
        let dotted = readError(.cargoToml, "[package]\nname = \"member\"\nversion.workspace = true\n")
        #expect(dotted.hasPrefix("Cargo.toml: [package] inherits its version from the workspace (version.workspace = true)"))
        #expect(dotted.contains("workspace root"))
        #expect(readError(.cargoToml, "[package]\nname = \"member\"\nversion = { workspace = true }\n") == dotted)
    }

    /// The workspace root's own package inheriting: the version it inherits is in this same file.
    @Test func cargoWorkspaceRootWithInheritingPackage() throws {
        try expectRewrite(
            .cargoToml,
            "[workspace]\nmembers = [\"a\"]\n\n[workspace.package]\nversion = \"3.0.0\"\n\n[package]\nname = \"root\"\nversion.workspace = true\n",
            to: "3.1.0",
            "[workspace]\nmembers = [\"a\"]\n\n[workspace.package]\nversion = \"3.1.0\"\n\n[package]\nname = \"root\"\nversion.workspace = true\n")
    }

    @Test func cargoVirtualManifestUsesWorkspacePackage() throws {
        try expectRewrite(
            .cargoToml, "[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.package]\nedition = \"2021\"\nversion = \"0.5.0\"\n", to: "0.6.0",
            "[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.package]\nedition = \"2021\"\nversion = \"0.6.0\"\n")
    }

    @Test func cargoErrors() {
        #expect(readError(.cargoToml, "[package]\nname = \"demo\"\n\n[workspace.package]\nversion = \"1.0.0\"\n") == #"Cargo.toml: no version = "…" in [package]"#)
        #expect(readError(.cargoToml, "[dependencies]\nfoo = { version = \"1\" }\n") == #"Cargo.toml: no [package] table with a version = "…" (nor a [workspace.package] one)"#)
        #expect(readError(.cargoToml, "[package]\nversion = \"1\"\nversion = \"2\"\n") == "Cargo.toml: version appears twice in [package] (lines 2, 3)")
        #expect(readError(.cargoToml, "[package]\nversion = 1\n") == "Cargo.toml: version in [package] (line 2) is not a one-line quoted string")
        #expect(readError(.cargoToml, "[package]\nname = \"demo\nversion = \"1\"\n") == "Cargo.toml: invalid TOML at line 2, column 13: unterminated string that starts on line 2")
        #expect(readError(.cargoToml, "[package\nversion = \"1\"\n").hasPrefix("Cargo.toml: invalid TOML at line 1"))
        #expect(readError(.cargoToml, "[package]\nversion = \"1\" trailing\n").contains("expected the end of the line"))
        #expect(readError(.cargoToml, "[package]\ndescription = '''\nnever closed\n").contains("unterminated multi-line string that starts on line 2"))
    }

    @Test func tomlSyntaxCorners() throws {
        // A quoted key, a date-time with a space, an inline table over lines, an array of tables, and
        // `version` keys inside inline tables and arrays of [package] that are not its version.
        try expectRewrite(
            .cargoToml,
            """
            [[example]]
            name = "x"
            version = "5"

            [package]
            built = 1979-05-27 07:32:00Z
            metadata = { version = "6", nested = {
              version = "7" } }
            "version" = "1.0.0"
            list = [{ version = "8" }, '''
            [package]
            ''']
            escaped = "a \\" [package] \\\\"

            """, to: "1.0.1",
            """
            [[example]]
            name = "x"
            version = "5"

            [package]
            built = 1979-05-27 07:32:00Z
            metadata = { version = "6", nested = {
              version = "7" } }
            "version" = "1.0.1"
            list = [{ version = "8" }, '''
            [package]
            ''']
            escaped = "a \\" [package] \\\\"

            """)
        // [project]'s version wins even when [tool.poetry] has one that is not a string.
        #expect(try VersionFiles.read(.pyproject, bytes("[project]\nversion = \"1.0\"\n[tool.poetry]\nversion = 2\n")) == "1.0")
        // Escapes in a basic-string version are read decoded.
        #expect(try VersionFiles.read(.cargoToml, bytes("[package]\nversion = \"1.0.0-\\u0061\"\n")) == "1.0.0-a")
    }

    @Test func cargoLiteralStringCannotHoldAQuote() {
        #expect(throws: VersionFileError.self) { try VersionFiles.rewrite(.cargoToml, bytes("[package]\nversion = '1'\n"), to: "1'2") }
    }

    // MARK: - pyproject.toml

    @Test func pyprojectProject() throws {
        try expectRewrite(
            .pyproject,
            """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "demo"
            version = "0.3.1"  # PEP 440
            dependencies = [
                "requests>=2",
            ]

            [project.optional-dependencies]
            version = ["x"]

            """, to: "0.4.0",
            """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "demo"
            version = "0.4.0"  # PEP 440
            dependencies = [
                "requests>=2",
            ]

            [project.optional-dependencies]
            version = ["x"]

            """)
    }

    @Test func pyprojectPoetry() throws {
        try expectRewrite(
            .pyproject,
            """
            [ tool.poetry ]
            name = "demo"
            version = '1.0.0'

            [tool.poetry.dependencies]
            python = "^3.8"
            requests = { version = "^2.0" }

            """, to: "1.0.1",
            """
            [ tool.poetry ]
            name = "demo"
            version = '1.0.1'

            [tool.poetry.dependencies]
            python = "^3.8"
            requests = { version = "^2.0" }

            """)
    }

    @Test func pyprojectBothTablesProjectWins() throws {
        try expectRewrite(
            .pyproject, "[tool.poetry]\nversion = \"1.0.0\"\n\n[project]\nname = \"demo\"\nversion = \"2.0.0\"\n", to: "2.1.0",
            "[tool.poetry]\nversion = \"1.0.0\"\n\n[project]\nname = \"demo\"\nversion = \"2.1.0\"\n")
    }

    @Test func pyprojectDynamicVersionIsAnError() {
        let message = readError(.pyproject, "[project]\nname = \"demo\"\ndynamic = [\n  \"readme\",\n  \"version\", # from git\n]\n")
        #expect(message.hasPrefix("pyproject.toml: [project] lists \"version\" in dynamic"))
        #expect(readError(.pyproject, "[project]\nversion = \"1\"\ndynamic = [\"version\"]\n").contains("also lists \"version\" in dynamic"))
    }

    /// Poetry 2 keeps a dynamic version in [tool.poetry].
    @Test func pyprojectDynamicVersionInPoetry() throws {
        try expectRewrite(
            .pyproject, "[project]\nname = \"demo\"\ndynamic = [\"version\"]\n\n[tool.poetry]\nversion = \"0.1.0\"\n", to: "0.2.0",
            "[project]\nname = \"demo\"\ndynamic = [\"version\"]\n\n[tool.poetry]\nversion = \"0.2.0\"\n")
    }

    @Test func pyprojectMissing() {
        #expect(readError(.pyproject, "[project]\nname = \"demo\"\n") == #"pyproject.toml: no version = "…" in [project] (nor in [tool.poetry])"#)
        #expect(readError(.pyproject, "[tool.black]\nversion = \"1\"\n") == #"pyproject.toml: no version = "…" in [project] or [tool.poetry]"#)
    }

    // MARK: - VERSION

    @Test func plainVersionKeepsWhatSurroundsIt() throws {
        try expectRewrite(.plainVersion, "1.2.3\n", to: "1.2.4", "1.2.4\n")
        try expectRewrite(.plainVersion, "1.2.3", to: "1.2.4", "1.2.4")
        try expectRewrite(.plainVersion, "1.2.3\r\n", to: "2.0.0-alpha.1", "2.0.0-alpha.1\r\n")
        try expectRewrite(.plainVersion, " 1.2.3 \n\n", to: "1.2.4", " 1.2.4 \n\n")
    }

    @Test func plainVersionErrors() {
        #expect(readError(.plainVersion, "\n") == "VERSION file: empty, expected a version")
        #expect(readError(.plainVersion, "1.2.3\nchangelog\n") == "VERSION file: expected only a version, found a line break at line 1, column 6")
        #expect(throws: VersionFileError.self) { try VersionFiles.rewrite(.plainVersion, bytes("1.0.0\n"), to: "1.0.1 beta") }
        #expect(throws: VersionFileError.self) { try VersionFiles.rewrite(.plainVersion, bytes("1.0.0\n"), to: "") }
    }

    // MARK: - patterns

    @Test func patternInSourceFile() throws {
        let kind = VersionFileKind.pattern(#"export const VERSION = "{version}""#)
        try expectRewrite(
            kind, "// generated\r\nexport const NAME = \"demo\"\r\nexport const VERSION = \"1.4.0\"\r\nconst v = \"1.4.0\"\r\n", to: "1.5.0",
            "// generated\r\nexport const NAME = \"demo\"\r\nexport const VERSION = \"1.5.0\"\r\nconst v = \"1.4.0\"\r\n")
        try expectRewrite(
            .pattern("__version__ = '{version}'"), "\"\"\"Demo.\"\"\"\n__version__ = '0.1.0'\n", to: "0.1.1",
            "\"\"\"Demo.\"\"\"\n__version__ = '0.1.1'\n")
    }

    @Test func patternEdges() throws {
        // The suffix starts with a version character: the version is the longest run the suffix still follows.
        try expectRewrite(.pattern("version {version}."), "This is version 1.2.3.\n", to: "1.3.0", "This is version 1.3.0.\n")
        // No suffix: the version runs to the first non-version character.
        try expectRewrite(.pattern("VERSION={version}"), "NAME=demo\nVERSION=1.2.3\nOTHER=x", to: "1.2.4", "NAME=demo\nVERSION=1.2.4\nOTHER=x")
        // No prefix.
        try expectRewrite(.pattern("{version} (stable)"), "demo 1.2.3 (stable)\n", to: "1.3.0", "demo 1.3.0 (stable)\n")
        // Several matches that agree are all rewritten.
        try expectRewrite(
            .pattern("npm i demo@{version}"), "npm i demo@1.0.0\n\nor\n\nnpm i demo@1.0.0 -g\n", to: "1.1.0",
            "npm i demo@1.1.0\n\nor\n\nnpm i demo@1.1.0 -g\n")
    }

    @Test func patternErrors() {
        #expect(readError(.pattern("v={version}"), "nothing here\n") == #"pattern "v={version}": no match in the file (with a version in place of {version})"#)
        #expect(readError(.pattern("v={version}"), "v=1.0\nv=2.0\n") == #"pattern "v={version}": matches 2 places with different versions (1.0, 2.0 on lines 1, 2)"#)
        #expect(readError(.pattern("version"), "version 1\n").contains("{version} exactly once (it does 0 times)"))
        #expect(readError(.pattern("{version}{version}"), "1\n").contains("{version} exactly once (it does 2 times)"))
        #expect(readError(.pattern("{version}"), "1\n").contains("needs literal text around {version}"))
        #expect(readError(.pattern("a\n{version}"), "x").hasPrefix(#"pattern "a\n{version}": "#))
    }

    // MARK: - file names

    @Test func kindsForFileNames() {
        #expect(VersionFileKind.forFileName("package.json") == .packageJSON)
        #expect(VersionFileKind.forFileName("package-lock.json") == .packageLock)
        #expect(VersionFileKind.forFileName("npm-shrinkwrap.json") == .packageLock)
        #expect(VersionFileKind.forFileName("Cargo.toml") == .cargoToml)
        #expect(VersionFileKind.forFileName("pyproject.toml") == .pyproject)
        #expect(VersionFileKind.forFileName("VERSION") == .plainVersion)
        #expect(VersionFileKind.forFileName("packages/web/package.json") == .packageJSON)
        #expect(VersionFileKind.forFileName("cargo.toml") == nil)
        #expect(VersionFileKind.forFileName("version.txt") == nil)
    }

    // MARK: - against npm

    /// npm re-serializes the whole file, so these fixtures are already in its canonical form (a final
    /// newline, no \u escapes of printable characters): then its output and ours must be the same bytes.
    @Test(arguments: [(indent: "  ", newline: "\n"), (indent: "\t", newline: "\r\n")])
    func matchesNpmVersion(indent: String, newline: String) async throws {
        let runner = Runner()
        guard (try? await runner.capture(Command("npm", "--version", timeout: .seconds(60)))) != nil else {
            try Test.cancel("npm is not on PATH (or does not run)")
        }
        let dir = try TempDirectory(prefix: "opskit-npm-version")
        defer { dir.remove() }
        func layout(_ lines: [(Int, String)]) -> [UInt8] {
            bytes(lines.map { String(repeating: indent, count: $0.0) + $0.1 }.joined(separator: newline) + newline)
        }
        let packageJSON = layout([
            (0, "{"), (1, #""name": "demo","#), (1, #""version": "1.2.3","#), (1, #""description": "say \"version\": \"9.9.9\" é","#),
            (1, #""scripts": {"#), (2, #""version": "echo bumped""#), (1, "},"), (1, #""dependencies": {"#),
            (2, #""left-pad": "^1.3.0""#), (1, "}"), (0, "}"),
        ])
        let packageLock = layout([
            (0, "{"), (1, #""name": "demo","#), (1, #""version": "1.2.3","#), (1, #""lockfileVersion": 3,"#), (1, #""requires": true,"#),
            (1, #""packages": {"#), (2, #""": {"#), (3, #""name": "demo","#), (3, #""version": "1.2.3","#), (3, #""dependencies": {"#),
            (4, #""left-pad": "^1.3.0""#), (3, "}"), (2, "},"), (2, #""node_modules/left-pad": {"#), (3, #""version": "1.3.0","#),
            (3, #""resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz","#),
            (3, #""integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQEQwMBPdZBWiLDFnLW5F9L6zJ/tY4YS8tV02ahCBK5Q==""#),
            (2, "}"), (1, "}"), (0, "}"),
        ])
        try AtomicFile.write(packageJSON, to: dir.file("package.json"))
        try AtomicFile.write(packageLock, to: dir.file("package-lock.json"))

        let npm = Command(
            argv: ["npm", "version", "1.3.0", "--no-git-tag-version", "--ignore-scripts", "--offline"],
            environment: [
                "HOME": dir.path, "npm_config_cache": dir.file("cache"), "npm_config_update_notifier": "false",
                "npm_config_fund": "false", "npm_config_audit": "false",
            ],
            workingDirectory: dir.path, timeout: .seconds(120))
        do {
            _ = try await runner.capture(npm)
        } catch {
            try Test.cancel("npm version failed here: \(error)")
        }
        let npmPackageJSON = try #require(AtomicFile.read(dir.file("package.json")))
        let npmPackageLock = try #require(AtomicFile.read(dir.file("package-lock.json")))
        #expect(npmPackageJSON != packageJSON)
        #expect(try VersionFiles.rewrite(.packageJSON, packageJSON, to: "1.3.0") == npmPackageJSON)
        #expect(try VersionFiles.rewrite(.packageLock, packageLock, to: "1.3.0") == npmPackageLock)
    }
}

extension String {
    /// This text with the first two occurrences of `target` replaced (the two version fields of a lockfile).
    fileprivate func replacingFirstTwo(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        for _ in 0..<2 {
            guard let range = rest.firstRange(of: target) else { break }
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
