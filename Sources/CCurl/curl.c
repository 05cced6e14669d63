// libcurl on first use; see CLazyLoad.h. Each function Swift calls, with libcurl's own prototype.
#include "CCurl.h"
#include "CLazyLoad.h"

#define FUNCTIONS(X) \
    X(curl_global_init) X(curl_easy_init) X(curl_easy_perform) X(curl_easy_cleanup) X(curl_easy_strerror) \
    X(curl_slist_append) X(curl_slist_free_all) X(curl_easy_setopt) X(curl_easy_getinfo)

OPSKIT_LAZY_LIBRARY(curl, FUNCTIONS, "libcurl4", "libcurl.so.4")
#define CALL(name) OPSKIT_LAZY_CALL(curl, name)

const char *opskit_curl_unavailable(void) { return opskit_lazy_error(&opskit_curl_library); }

// The entry points Swift reaches first answer a failure instead of exiting, so the error says what is missing.
CURLcode curl_global_init(long flags) {
    return opskit_curl_unavailable() ? CURLE_FAILED_INIT : CALL(curl_global_init)(flags);
}
CURL *curl_easy_init(void) { return opskit_curl_unavailable() ? 0 : CALL(curl_easy_init)(); }

CURLcode curl_easy_perform(CURL *curl) { return CALL(curl_easy_perform)(curl); }
void curl_easy_cleanup(CURL *curl) { CALL(curl_easy_cleanup)(curl); }
const char *curl_easy_strerror(CURLcode code) { return CALL(curl_easy_strerror)(code); }
struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data) { return CALL(curl_slist_append)(list, data); }
void curl_slist_free_all(struct curl_slist *list) { CALL(curl_slist_free_all)(list); }

opskit_curl_setopt_fn opskit_curl_setopt_function(void) { return CALL(curl_easy_setopt); }
opskit_curl_getinfo_fn opskit_curl_getinfo_function(void) { return CALL(curl_easy_getinfo); }
