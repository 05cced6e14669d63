#include "CLazyLoad.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void load(opskit_lazy_library *library) {
    void *handle = 0;
    const char *why = "not found";
    for (const char *const *name = library->sonames; *name && !handle; name++) {
        // RTLD_LOCAL: the library's symbols stay out of the global scope, so nothing else binds to them.
        handle = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
        if (!handle) why = dlerror();
    }
    if (!handle) {
        snprintf(library->error, sizeof library->error,
                 "%s could not be loaded (%s): install it with `apt-get install %s`",
                 library->sonames[0], why ? why : "not found", library->package);
        __atomic_store_n(&library->state, -1, __ATOMIC_RELEASE);
        return;
    }
    for (int i = 0; library->symbols[i]; i++) {
        void *function = dlsym(handle, library->symbols[i]);
        if (!function) {
            snprintf(library->error, sizeof library->error,
                     "%s has no function %s: it is older than opskit needs; upgrade it with `apt-get install %s`",
                     library->sonames[0], library->symbols[i], library->package);
            __atomic_store_n(&library->state, -1, __ATOMIC_RELEASE);
            return; // the handle stays open: dlclose of a half-used library gains nothing
        }
        library->slots[i] = function;
    }
    __atomic_store_n(&library->state, 1, __ATOMIC_RELEASE);
}

const char *opskit_lazy_error(opskit_lazy_library *library) {
    int state = __atomic_load_n(&library->state, __ATOMIC_ACQUIRE);
    if (state == 0) {
        pthread_mutex_lock(&library->mutex);
        if (__atomic_load_n(&library->state, __ATOMIC_ACQUIRE) == 0) load(library);
        pthread_mutex_unlock(&library->mutex);
        state = __atomic_load_n(&library->state, __ATOMIC_ACQUIRE);
    }
    return state == 1 ? 0 : library->error;
}

void *opskit_lazy_require(opskit_lazy_library *library, int slot) {
    if (__atomic_load_n(&library->state, __ATOMIC_ACQUIRE) == 1) return library->slots[slot];
    const char *error = opskit_lazy_error(library);
    if (error) {
        char line[600];
        int n = snprintf(line, sizeof line, "opskit: %s\n", error);
        if (n > 0) (void)!write(2, line, (size_t)(n < (int)sizeof line ? n : (int)sizeof line - 1));
        _exit(127);
    }
    return library->slots[slot];
}
