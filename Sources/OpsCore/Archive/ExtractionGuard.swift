#if canImport(Glibc)
import Glibc
#endif

/// The checks ``TarReader`` makes before an entry touches the disk (libarchive adds its refusal of `..`).
///
/// No entry is written through a symlink: every existing directory on its path under the root must be a real
/// one (checked with lstat, once per run of entries in one directory, and again after any link is made), and
/// a directory entry must not land on an existing symlink (libarchive would follow it to set modes and times;
/// other entries replace a symlink, never follow it).
///
/// libarchive creates symlinks pointing anywhere, and a later entry or a person following one would leave the
/// directory, so link targets are checked too. A symlink's target must be relative and made of `..` steps
/// first and names after (`../../lib/x`, never `a/../..`), with no more steps up than the link is deep: as
/// every directory on the way is a real one and every symlink reached is bound by the same rule, following
/// it cannot leave the directory. A hard link's target must be a plain relative path inside.
/// How ``TarReader/extract(into:symlinks:visit:)`` treats where symlinks point.
public enum SymlinkTargets: Sendable, Equatable {
    /// Only relative targets that stay inside the directory (for archives of unknown origin; the default).
    case contained
    /// Any target, as archived: for restoring one's own backup, where `current -> /opt/app/releases/5` is
    /// data. No entry is ever written through a symlink either way.
    case asArchived
}

struct ExtractionGuard {
    /// The real path (no symlinks) of the directory being extracted into.
    let root: [UInt8]
    /// Whether symlink targets are checked (``SymlinkTargets``).
    let symlinkTargets: SymlinkTargets
    /// The last parent directory found free of symlinks; forgotten when a link is created.
    private var checkedParent: [[UInt8]]?

    init(root: [UInt8], symlinkTargets: SymlinkTargets = .contained) {
        self.root = root
        self.symlinkTargets = symlinkTargets
    }

    struct Plan {
        /// The absolute path to create.
        var path: [UInt8]
        /// For a hard link, the absolute path of the file to link to.
        var hardlinkTarget: [UInt8]?
    }

    mutating func check(name: [UInt8], info: TarEntryInfo, link: [UInt8]?) throws -> Plan {
        func refuse(_ reason: String) -> ArchiveError { .unsafeEntry(path: displayPath(name), reason: reason) }
        guard name.first != 0x2f else { throw refuse("its path is absolute") }
        let parts = Self.components(name)
        guard !parts.contains(Self.dotDot) else { throw refuse("its path contains `..`") }
        if parts.isEmpty && info.kind != .directory {
            throw refuse("it would replace the target directory itself")
        }
        try checkNoSymlink(in: parts.dropLast(), refuse)
        var plan = Plan(path: absolute(parts))
        switch info.kind {
        case .directory:
            var existing = stat()
            if !parts.isEmpty, withCPath(plan.path, { lstat($0, &existing) }) == 0, existing.st_mode & S_IFMT == S_IFLNK {
                throw refuse("it is a directory where a symlink already is, and extracting would follow it")
            }
        case .symlink:
            checkedParent = nil
            guard let link, !link.isEmpty else { throw refuse("it is a symlink without a target") }
            // Restoring a backup recreates its symlinks as they were; entries are still never written
            // through one (checkNoSymlink above), so where a link points is data, not a way out.
            if symlinkTargets == .asArchived { break }
            guard link.first != 0x2f else {
                throw refuse("it is a symlink to the absolute path \"\(displayPath(link))\"")
            }
            var steps = 0
            var descended = false
            for part in Self.components(link) {
                if part == Self.dotDot {
                    if descended {
                        throw refuse(
                            "it is a symlink to \"\(displayPath(link))\", which climbs back up after descending")
                    }
                    steps += 1
                } else {
                    descended = true
                }
            }
            if steps > parts.count - 1 {
                throw refuse("it is a symlink to \"\(displayPath(link))\", which leads outside the target directory")
            }
        case .hardlink:
            checkedParent = nil
            guard let link, !link.isEmpty else { throw refuse("it is a hard link without a target") }
            guard link.first != 0x2f else {
                throw refuse("it is a hard link to the absolute path \"\(displayPath(link))\"")
            }
            let targetParts = Self.components(link)
            guard !targetParts.contains(Self.dotDot), !targetParts.isEmpty else {
                throw refuse("it is a hard link to \"\(displayPath(link))\", outside the target directory")
            }
            try checkNoSymlink(in: targetParts.dropLast()) { reason in
                refuse("it is a hard link to \"\(displayPath(link))\", and \(reason)")
            }
            plan.hardlinkTarget = absolute(targetParts)
        default:
            break
        }
        return plan
    }

    /// Every existing directory in `parents` must be a real directory, not a symlink.
    private mutating func checkNoSymlink(in parents: ArraySlice<[UInt8]>, _ refuse: (String) -> ArchiveError) throws {
        if parents.isEmpty { return }
        if let checkedParent, checkedParent.elementsEqual(parents) { return }
        var path = root
        for (index, part) in parents.enumerated() {
            path += [0x2f] + part
            var info = stat()
            guard withCPath(path, { lstat($0, &info) }) == 0 else {
                if errno == ENOENT { break }  // libarchive creates the rest as real directories
                throw refuse("its directory \"\(displayPath(Self.joined(parents[0...index])))\" "
                    + "cannot be checked: \(errnoText(errno))")
            }
            if info.st_mode & S_IFMT == S_IFLNK {
                throw refuse("its directory \"\(displayPath(Self.joined(parents[0...index])))\" "
                    + "is a symlink, and extracting would write through it")
            }
        }
        checkedParent = Array(parents)
    }

    private func absolute(_ parts: [[UInt8]]) -> [UInt8] {
        parts.isEmpty ? root : root + [0x2f] + Self.joined(parts)
    }

    static let dotDot: [UInt8] = [0x2e, 0x2e]

    /// A path's components without empty ones and `.`.
    static func components(_ path: [UInt8]) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        path.withUnsafeBufferPointer { bytes in
            var start = 0
            for index in 0...bytes.count {
                guard index == bytes.count || bytes[index] == 0x2f else { continue }
                let length = index - start
                if length > 0 && !(length == 1 && bytes[start] == 0x2e) {
                    parts.append(Array(bytes[start..<index]))
                }
                start = index + 1
            }
        }
        return parts
    }

    /// Components joined with `/`.
    static func joined(_ parts: some Collection<[UInt8]>) -> [UInt8] {
        var path: [UInt8] = []
        for part in parts {
            if !path.isEmpty { path.append(0x2f) }
            path += part
        }
        return path
    }
}
