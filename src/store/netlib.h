/*
 * netlib.h — libcurl and libcrypto, loaded when the first remote store is opened.
 *
 * Only the S3 and HTTP stores need them, and linking them costs every process (the CLI on a
 * local directory included) about 45 shared libraries and about 6 MiB of resident memory at start.
 * So the library does not link them: the first zarrc__netlib_load() dlopens them and fills
 * zarrc__net. The headers still come from the -dev packages; the macros below keep libcurl's
 * and OpenSSL's names at the call sites (http_client.c, store_s3.c), which include this header
 * instead of curl.h and evp.h.
 *
 * Environment: ZARRC_LIBCURL and ZARRC_LIBCRYPTO name other files to load (default
 * libcurl.so.4, else libcurl-gnutls.so.4; libcrypto.so.3).
 */
#ifndef ZARRC_NETLIB_H
#define ZARRC_NETLIB_H

#include <curl/curl.h>
#include <openssl/evp.h>

#include "../core/core.h"

typedef struct zarrc__netlib {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_reset) *easy_reset;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_setopt) *multi_setopt;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_perform) *multi_perform;
    __typeof__(curl_multi_poll) *multi_poll;
    __typeof__(curl_multi_wakeup) *multi_wakeup;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
    __typeof__(EVP_Digest) *digest;
    __typeof__(EVP_md5) *md5;
    __typeof__(EVP_sha256) *sha256;
} zarrc__netlib;

/* Valid once zarrc__netlib_load() returned ZARRC_OK; read-only afterwards. */
ZARRC_HIDDEN extern zarrc__netlib zarrc__net;

/* Load both libraries and resolve every function, once per process (thread-safe; later calls
 * return the first result). ZARRC_EUNSUPPORTED, with a message naming the library and what
 * is missing, when a library or a function cannot be loaded. */
ZARRC_HIDDEN int zarrc__netlib_load(void);

/* libcurl may define some of these as type-checking macros (typecheck-gcc.h). */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init zarrc__net.global_init
#define curl_easy_init zarrc__net.easy_init
#define curl_easy_setopt zarrc__net.easy_setopt
#define curl_easy_getinfo zarrc__net.easy_getinfo
#define curl_easy_perform zarrc__net.easy_perform
#define curl_easy_reset zarrc__net.easy_reset
#define curl_easy_cleanup zarrc__net.easy_cleanup
#define curl_easy_strerror zarrc__net.easy_strerror
#define curl_slist_append zarrc__net.slist_append
#define curl_slist_free_all zarrc__net.slist_free_all
#define curl_multi_init zarrc__net.multi_init
#define curl_multi_setopt zarrc__net.multi_setopt
#define curl_multi_add_handle zarrc__net.multi_add_handle
#define curl_multi_remove_handle zarrc__net.multi_remove_handle
#define curl_multi_perform zarrc__net.multi_perform
#define curl_multi_poll zarrc__net.multi_poll
#define curl_multi_wakeup zarrc__net.multi_wakeup
#define curl_multi_info_read zarrc__net.multi_info_read
#define curl_multi_cleanup zarrc__net.multi_cleanup
#define EVP_Digest zarrc__net.digest
#define EVP_md5 zarrc__net.md5
#define EVP_sha256 zarrc__net.sha256

#endif
