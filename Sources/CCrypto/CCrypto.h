// OpenSSL's libcrypto, which libcurl already links: ProxyVet takes SHA-256 from it (EVP_Digest) instead of a Swift package.
#include <openssl/evp.h>
