#include "CCurlShim.h"

CURLcode CCurlShim_easy_setopt_long(CURL *handle, CURLoption option, long value) { return curl_easy_setopt(handle, option, value); }
CURLcode CCurlShim_easy_setopt_string(CURL *handle, CURLoption option, const char *value) { return curl_easy_setopt(handle, option, value); }
CURLcode CCurlShim_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) { return curl_easy_setopt(handle, option, value); }
CURLcode CCurlShim_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) { return curl_easy_setopt(handle, option, value); }
CURLcode CCurlShim_easy_setopt_write_callback(CURL *handle, CURLoption option, CCurlShimWriteCallback value) { return curl_easy_setopt(handle, option, value); }
CURLcode CCurlShim_easy_setopt_ssl_ctx_callback(CURL *handle, CURLoption option, curl_ssl_ctx_callback value) { return curl_easy_setopt(handle, option, value); }

CURLcode CCurlShim_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) { return curl_easy_getinfo(handle, info, value); }
CURLcode CCurlShim_easy_getinfo_string(CURL *handle, CURLINFO info, char **value) { return curl_easy_getinfo(handle, info, value); }
CURLcode CCurlShim_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) { return curl_easy_getinfo(handle, info, value); }

CURLMcode CCurlShim_multi_setopt_long(CURLM *handle, CURLMoption option, long value) { return curl_multi_setopt(handle, option, value); }

curl_version_info_data *CCurlShim_version_info(void) { return curl_version_info(CURLVERSION_NOW); }
unsigned long CCurlShim_auth_any(void) { return CURLAUTH_ANY; }
unsigned long CCurlShim_auth_negotiate(void) { return CURLAUTH_NEGOTIATE; }
