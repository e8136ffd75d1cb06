// OpenSSL (libssl, libcrypto), the TLS library libcurl already links: ProxyVet takes SHA-256 from it (EVP_Digest) and
// reads the chain a server presents inside libcurl's own handshake (an SSL_CTX verify callback installed through
// CURLOPT_SSL_CTX_FUNCTION), so the issuer of a certificate that fails verification is named without a second connection.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>

// Macros Swift cannot import, as constants.
static const unsigned long COpenSSL_XN_FLAG_ONELINE = XN_FLAG_ONELINE;
static const int COpenSSL_CRYPTO_EX_INDEX_SSL_CTX = CRYPTO_EX_INDEX_SSL_CTX;
static const int COpenSSL_BIO_CTRL_INFO = BIO_CTRL_INFO;
