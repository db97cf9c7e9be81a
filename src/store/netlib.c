/* netlib.c — libcurl and libcrypto loaded at run time (netlib.h says why). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#include "netlib.h"

zarrc__netlib zarrc__net;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc;
static char *load_msg; /* why loading failed (malloc'd once, kept for the process) */

/* Record why loading failed (msg: malloc'd, NULL when out of memory; the first reason wins). */
static void load_failed(char *msg)
{
    load_rc = ZARRC_EUNSUPPORTED;
    if (load_msg)
        free(msg);
    else
        load_msg = msg;
}

/* dlopen the first of the candidates that loads (the environment's choice alone if set). */
static void *open_first(const char *env, const char *const *names, const char *what)
{
    const char *chosen = getenv(env);
    const char *only[2] = {chosen, NULL};
    const char *const *cand = chosen && *chosen ? only : names;
    void *h = NULL;
    for (size_t i = 0; !h && cand[i]; i++)
        h = dlopen(cand[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        load_failed(zarrc__sprintf("S3 and HTTP stores need %s (%s%s%s), which cannot be loaded: %s", what,
                                   cand[0], cand[1] ? " or " : "", cand[1] ? cand[1] : "",
                                   why ? why : "not found"));
    }
    return h;
}

/* Resolve one function into *slot; false (with the message set) when it is missing. */
static bool resolve(void *lib, const char *libname, const char *fn, void **slot)
{
    dlerror();
    *slot = dlsym(lib, fn);
    if (*slot)
        return true;
    load_failed(zarrc__sprintf("%s has no function %s (too old a version?)", libname, fn));
    return false;
}

static void load(void)
{
    static const char *const curl_names[] = {"libcurl.so.4", "libcurl-gnutls.so.4", NULL};
    static const char *const crypto_names[] = {"libcrypto.so.3", NULL};
    void *curl = open_first("ZARRC_LIBCURL", curl_names, "libcurl");
    void *crypto = curl ? open_first("ZARRC_LIBCRYPTO", crypto_names, "OpenSSL's libcrypto") : NULL;
    if (!curl || !crypto)
        return;
    zarrc__netlib n;
#define CURL_FN(field, name) resolve(curl, "libcurl", name, (void **)&n.field)
#define CRYPTO_FN(field, name) resolve(crypto, "libcrypto", name, (void **)&n.field)
    bool ok = CURL_FN(global_init, "curl_global_init") && CURL_FN(easy_init, "curl_easy_init") &&
              CURL_FN(easy_setopt, "curl_easy_setopt") && CURL_FN(easy_getinfo, "curl_easy_getinfo") &&
              CURL_FN(easy_perform, "curl_easy_perform") && CURL_FN(easy_reset, "curl_easy_reset") &&
              CURL_FN(easy_cleanup, "curl_easy_cleanup") && CURL_FN(easy_strerror, "curl_easy_strerror") &&
              CURL_FN(slist_append, "curl_slist_append") && CURL_FN(slist_free_all, "curl_slist_free_all") &&
              CURL_FN(multi_init, "curl_multi_init") && CURL_FN(multi_setopt, "curl_multi_setopt") &&
              CURL_FN(multi_add_handle, "curl_multi_add_handle") &&
              CURL_FN(multi_remove_handle, "curl_multi_remove_handle") &&
              CURL_FN(multi_perform, "curl_multi_perform") && CURL_FN(multi_poll, "curl_multi_poll") &&
              CURL_FN(multi_wakeup, "curl_multi_wakeup") && CURL_FN(multi_info_read, "curl_multi_info_read") &&
              CURL_FN(multi_cleanup, "curl_multi_cleanup") && CRYPTO_FN(digest, "EVP_Digest") &&
              CRYPTO_FN(md5, "EVP_md5") && CRYPTO_FN(sha256, "EVP_sha256");
#undef CURL_FN
#undef CRYPTO_FN
    if (ok) /* (else the libraries stay loaded: harmless) */
        zarrc__net = n;
}

int zarrc__netlib_load(void)
{
    pthread_once(&load_once, load);
    return load_rc ? zarrc_error_set(load_rc, "%s", load_msg ? load_msg : "libcurl cannot be loaded (out of memory)")
                   : ZARRC_OK;
}
