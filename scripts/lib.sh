# Shared by scripts/install, scripts/test and scripts/demo. Source it; it defines functions only.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Swift toolchain is not an apt package; find it where this kind of machine keeps it.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [ -x "$d/swift" ] && PATH="$d:$PATH" && export PATH && break
        done
    fi
    command -v swift >/dev/null 2>&1 || die "no Swift toolchain on PATH (need Swift 6): install one from swift.org, then rerun"
}

# Installs the named Debian packages that are not installed yet; does nothing (and needs no network)
# when all are present. Not root: says the one command to run instead.
ensure_apt() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing packages: ${missing[*]} — run: sudo apt-get install -y ${missing[*]}"
    fi
    say "installing: ${missing[*]}"
    # Try with the package lists the machine has; refresh them only if that fails (a fresh machine has none).
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/opskit-apt.log 2>&1; then
        apt-get update -qq >/tmp/opskit-apt-update.log 2>&1 || die "apt-get update failed (see /tmp/opskit-apt-update.log)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/opskit-apt.log 2>&1 \
            || die "apt-get install ${missing[*]} failed (see /tmp/opskit-apt.log)"
    fi
}

# What the build needs from Debian: the C libraries we wrap (curl, libarchive, zstd, SQLite), and pkg-config to find them.
BUILD_PACKAGES=(libcurl4-openssl-dev libarchive-dev libzstd-dev libsqlite3-dev pkg-config binutils)
# What the tests and the demo start or compare against. postgresql: the server scripts/services/postgres
# starts (initdb, pg_ctl); postgresql-client: pg_dump/pg_restore/psql, which backup-db itself runs.
TEST_PACKAGES=(nginx-light openssl curl openssh-server openssh-client procps docker.io docker-compose busybox-static zstd docker-registry python3 iproute2
    sqlite3 postgresql-client postgresql age patch debootstrap)
