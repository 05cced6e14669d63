// Loads a shared library the first time one of its functions is called, instead of when the process starts.
//
// Why: every tool is one binary, and linking libcurl, libarchive, libzstd and libsqlite3 the usual way made
// the dynamic loader map ~45 libraries (GnuTLS, Kerberos, LDAP, ICU…) and resolve their symbols before main:
// ~10 ms on every start, more than `monitor` and `health-check` need for their whole job. Now a tool pays
// for a library only when it uses it.
//
// How: CCurl, CArchive, CZstd and CSQLite each define the functions Swift calls, with the library's own names
// and prototypes (from its header), as trampolines that jump through a table filled by dlopen + dlsym on first
// use. Swift code is unchanged; no C type leaves those modules' Swift wrappers.
#ifndef OPSKIT_CLAZYLOAD_H
#define OPSKIT_CLAZYLOAD_H

#include <pthread.h>

typedef struct opskit_lazy_library {
    /// What to tell the user to install, e.g. "libcurl4".
    const char *package;
    /// Names to try with dlopen, best first, NULL-terminated.
    const char *const *sonames;
    /// Function names to resolve, NULL-terminated; `slots` has one entry per name.
    const char *const *symbols;
    void **slots;
    pthread_mutex_t mutex;
    /// 0 not tried, 1 loaded, -1 failed (then `error` says why). Read with acquire ordering.
    int state;
    char error[512];
} opskit_lazy_library;

#define OPSKIT_LAZY_SLOT_ENUM(name) opskit_slot_##name,
#define OPSKIT_LAZY_SLOT_NAME(name) #name,

/// Declares the library `tag` with the functions listed by the X-macro `FUNCTIONS(X)`.
#define OPSKIT_LAZY_LIBRARY(tag, FUNCTIONS, package_name, ...)                                              \
    enum { FUNCTIONS(OPSKIT_LAZY_SLOT_ENUM) opskit_##tag##_slot_count };                                \
    static const char *const opskit_##tag##_sonames[] = { __VA_ARGS__, 0 };                            \
    static const char *const opskit_##tag##_symbols[] = { FUNCTIONS(OPSKIT_LAZY_SLOT_NAME) 0 };         \
    static void *opskit_##tag##_slots[opskit_##tag##_slot_count];                                        \
    static opskit_lazy_library opskit_##tag##_library = {                                                \
        package_name, opskit_##tag##_sonames, opskit_##tag##_symbols, opskit_##tag##_slots,              \
        PTHREAD_MUTEX_INITIALIZER, 0, {0}                                                                \
    };

/// The loaded function `name` of library `tag`; loads the library first. Exits the process with a one-line
/// message (status 127, like the dynamic loader when a library is missing at start) if it cannot be loaded:
/// the Swift wrappers ask `opskit_lazy_error` before their first call, so only a bug reaches that exit.
#define OPSKIT_LAZY_CALL(tag, name) \
    ((__typeof__(name) *)opskit_lazy_require(&opskit_##tag##_library, opskit_slot_##name))

/// Loads `library` (once, thread-safe). Returns NULL when every function is there, else a one-line reason
/// naming the library and the package to install.
const char *opskit_lazy_error(opskit_lazy_library *library);

/// The function in `slot`, loading the library first; exits with status 127 and the reason if it cannot.
void *opskit_lazy_require(opskit_lazy_library *library, int slot);

#endif
