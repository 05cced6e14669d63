// libcurl, wrapped once for OpsCore's HTTP client (Sources/OpsCore/HTTP), and loaded on first use (curl.c,
// CLazyLoad.h): a tool that sends no HTTPS request never maps libcurl and its ~30 libraries.
//
// Typed wrappers for libcurl's variadic calls: Swift cannot call C variadics, and passing the wrong width
// (int for long, long for curl_off_t) is undefined behaviour. One wrapper per argument type; each calls the
// loaded curl_easy_setopt/getinfo through a pointer of its exact (variadic) type.
#ifndef OPSKIT_CCURL_H
#define OPSKIT_CCURL_H
#include <curl/curl.h>

typedef CURLcode (*opskit_curl_setopt_fn)(CURL *, CURLoption, ...);
typedef CURLcode (*opskit_curl_getinfo_fn)(CURL *, CURLINFO, ...);
opskit_curl_setopt_fn opskit_curl_setopt_function(void);
opskit_curl_getinfo_fn opskit_curl_getinfo_function(void);

/// NULL when libcurl is loaded, else one line saying why not and what to install. Loads it on first call.
const char *opskit_curl_unavailable(void);

static inline CURLcode opskit_curl_setopt_long(CURL *h, CURLoption o, long v) { return opskit_curl_setopt_function()(h, o, v); }
static inline CURLcode opskit_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return opskit_curl_setopt_function()(h, o, v); }
static inline CURLcode opskit_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return opskit_curl_setopt_function()(h, o, v); }
static inline CURLcode opskit_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return opskit_curl_setopt_function()(h, o, v); }
static inline CURLcode opskit_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return opskit_curl_setopt_function()(h, o, v); }
static inline CURLcode opskit_curl_setopt_write_cb(CURL *h, CURLoption o, curl_write_callback v) { return opskit_curl_setopt_function()(h, o, v); }
static inline CURLcode opskit_curl_setopt_read_cb(CURL *h, CURLoption o, curl_read_callback v) { return opskit_curl_setopt_function()(h, o, v); }
static inline CURLcode opskit_curl_setopt_xferinfo_cb(CURL *h, CURLoption o, curl_xferinfo_callback v) { return opskit_curl_setopt_function()(h, o, v); }

static inline CURLcode opskit_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return opskit_curl_getinfo_function()(h, i, v); }
static inline CURLcode opskit_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return opskit_curl_getinfo_function()(h, i, v); }
static inline CURLcode opskit_curl_getinfo_string(CURL *h, CURLINFO i, char **v) { return opskit_curl_getinfo_function()(h, i, v); }
static inline CURLcode opskit_curl_getinfo_certinfo(CURL *h, CURLINFO i, struct curl_certinfo **v) { return opskit_curl_getinfo_function()(h, i, v); }

#endif
