#ifndef CCURLSHIM_H
#define CCURLSHIM_H
// One typed function per argument kind of libcurl's variadic calls, so Swift can call them.
// No logic lives here: each function forwards to libcurl unchanged.
#include <curl/curl.h>

typedef size_t (*CCurlShimWriteCallback)(char *data, size_t size, size_t count, void *userdata);

CURLcode CCurlShim_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode CCurlShim_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode CCurlShim_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode CCurlShim_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode CCurlShim_easy_setopt_write_callback(CURL *handle, CURLoption option, CCurlShimWriteCallback value);
CURLcode CCurlShim_easy_setopt_ssl_ctx_callback(CURL *handle, CURLoption option, curl_ssl_ctx_callback value);

CURLcode CCurlShim_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode CCurlShim_easy_getinfo_string(CURL *handle, CURLINFO info, char **value);
CURLcode CCurlShim_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);

CURLMcode CCurlShim_multi_setopt_long(CURLM *handle, CURLMoption option, long value);

// Macros Swift cannot import.
curl_version_info_data *CCurlShim_version_info(void);   // curl_version_info(CURLVERSION_NOW)
unsigned long CCurlShim_auth_any(void);                 // CURLAUTH_ANY
unsigned long CCurlShim_auth_negotiate(void);           // CURLAUTH_NEGOTIATE

#endif
