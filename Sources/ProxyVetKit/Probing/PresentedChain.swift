import Foundation
internal import COpenSSL

/// The certificates a server presented in one TLS handshake, as OpenSSL saw them while verifying them inside
/// libcurl's own handshake, and the first verification error.
///
/// libcurl fills CURLINFO_CERTINFO only after a handshake completes, so a certificate that fails verification used to
/// need a second connection without verification to be seen. Instead, `Transfer` installs a verify callback on each
/// SSL_CTX libcurl creates (CURLOPT_SSL_CTX_FUNCTION, https://curl.se/libcurl/c/CURLOPT_SSL_CTX_FUNCTION.html): OpenSSL
/// calls it for every step of the chain it verifies (https://www.openssl.org/docs/man3.0/man3/SSL_CTX_set_verify.html),
/// the callback keeps a reference to the presented certificates and the first error, and returns OpenSSL's own answer,
/// so libcurl decides exactly as it would without it. One object per handshake (an https proxy's, then the target's).
final class PresentedChain {
    /// The presented certificates, leaf first, each with a reference this object owns (X509_up_ref).
    private var certificates: [OpaquePointer] = []
    /// The first X509 verify error of the handshake (0 when every step verified); nil when OpenSSL never verified a
    /// chain (the handshake failed before the server's certificate arrived).
    private(set) var verifyError: Int?
    /// The session's protocol version and cipher in OpenSSL's names (`TLSv1.3`, `TLS_AES_256_GCM_SHA384`), known once
    /// the server's hello is processed, before its certificate is verified: also for a session that then fails.
    private(set) var version: String?
    private(set) var cipher: String?

    deinit {
        for certificate in certificates { X509_free(certificate) }
    }

    /// The SSL_CTX ex-data slot that points a handshake's verify callback at its `PresentedChain`.
    static let contextSlot: Int32 = CRYPTO_get_ex_new_index(COpenSSL_CRYPTO_EX_INDEX_SSL_CTX, 0, nil, nil, nil, nil)

    /// Points the SSL_CTX libcurl is about to use at `chain` and adds the verify callback to the mode libcurl set.
    static func attach(_ chain: PresentedChain, to sslContext: UnsafeMutableRawPointer) {
        let context = OpaquePointer(sslContext)
        _ = SSL_CTX_set_ex_data(context, contextSlot, Unmanaged.passUnretained(chain).toOpaque())
        SSL_CTX_set_verify(context, SSL_CTX_get_verify_mode(context), verifyCallback)
    }

    /// OpenSSL's verify callback: records, then returns OpenSSL's own verdict for the step unchanged.
    private static let verifyCallback: @convention(c) (Int32, OpaquePointer?) -> Int32 = { preverified, store in
        guard let store, let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
              let context = SSL_get_SSL_CTX(OpaquePointer(ssl)),
              let chain = SSL_CTX_get_ex_data(context, contextSlot) else { return preverified }
        Unmanaged<PresentedChain>.fromOpaque(chain).takeUnretainedValue().record(store, session: OpaquePointer(ssl), verified: preverified == 1)
        return preverified
    }

    /// Keeps the presented chain once (the untrusted stack OpenSSL verifies is what the server sent, leaf first) and
    /// the first error.
    private func record(_ store: OpaquePointer, session: OpaquePointer, verified: Bool) {
        if version == nil {
            version = SSL_get_version(session).map { String(cString: $0) }
            // TLS 1.2 makes the negotiated cipher current only at ChangeCipherSpec, after the certificate: until then it
            // is the pending one.
            cipher = (SSL_get_current_cipher(session) ?? SSL_get_pending_cipher(session))
                .flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) }
        }
        if certificates.isEmpty {
            if let presented = X509_STORE_CTX_get0_untrusted(store), OPENSSL_sk_num(presented) > 0 {
                for index in 0..<min(OPENSSL_sk_num(presented), Self.chainLimit) {
                    guard let certificate = OPENSSL_sk_value(presented, index) else { continue }
                    let x509 = OpaquePointer(certificate)
                    if X509_up_ref(x509) == 1 { certificates.append(x509) }
                }
            } else if let leaf = X509_STORE_CTX_get0_cert(store), X509_up_ref(leaf) == 1 {
                certificates.append(leaf)
            }
        }
        if !verified, verifyError == nil || verifyError == 0 {
            verifyError = Int(X509_STORE_CTX_get_error(store))
        } else if verifyError == nil {
            verifyError = 0
        }
    }

    /// Most certificates kept from one chain: a hostile server cannot grow memory without bound.
    static let chainLimit: Int32 = 16

    /// The chain as evidence, in the text forms libcurl's CURLINFO_CERTINFO uses (X509_NAME_print_ex with
    /// XN_FLAG_ONELINE, ASN1_TIME_print, X509V3_EXT_print); nil when no certificate was presented.
    var evidence: CertificateEvidence? {
        guard let leaf = certificates.first else { return nil }
        let names = (Self.subjectAltName(leaf) ?? "")
            .split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("DNS:") }
            .map { String($0.dropFirst(4)) }
        return CertificateEvidence(subject: Self.name(X509_get_subject_name(leaf)), issuer: Self.name(X509_get_issuer_name(leaf)),
                                   notBefore: Self.text { ASN1_TIME_print($0, X509_get0_notBefore(leaf)) },
                                   notAfter: Self.text { ASN1_TIME_print($0, X509_get0_notAfter(leaf)) },
                                   subjectAltNames: names, chainIssuers: certificates.map { Self.name(X509_get_issuer_name($0)) })
    }

    private static func name(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        return text { X509_NAME_print_ex($0, name, 0, COpenSSL_XN_FLAG_ONELINE) >= 0 ? 1 : 0 } ?? ""
    }

    private static func subjectAltName(_ certificate: OpaquePointer) -> String? {
        let index = X509_get_ext_by_NID(certificate, NID_subject_alt_name, -1)
        guard index >= 0, let extensionField = X509_get_ext(certificate, index) else { return nil }
        return text { X509V3_EXT_print($0, extensionField, 0, 0) }
    }

    /// What `write` prints into a memory BIO; nil when it fails (returns 0 or less).
    private static func text(_ write: (OpaquePointer) -> Int32) -> String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard write(bio) > 0 else { return nil }
        var bytes: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, COpenSSL_BIO_CTRL_INFO, 0, &bytes)
        guard length > 0, let bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
}
