/* rtc/cert: the DTLS certificate of a roomrec process, and certificate fingerprints.
 *
 * rr_cert_new() generates an ECDSA P-256 key and a self-signed X.509 certificate for it
 * (the WebRTC norm): one per process or per job, created at start-up and shared by every
 * DTLS session that needs it. Its SHA-256 fingerprint, formatted "AB:CD:..", goes into the
 * SDP answer as "a=fingerprint:sha-256 ...". The helpers below compute and compare
 * fingerprints of peer certificates (RFC 8122 names: "sha-1", "sha-256", ...).
 *
 * An RrCert is immutable after creation and reference-counted, so it may be shared
 * between threads. Strings returned by the functions are owned by the caller unless
 * documented otherwise.
 */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

typedef struct RrCert RrCert;

/* A new key and self-signed certificate (CN=@common_name, or "roomrec" when NULL),
 * valid from a day ago for 30 days. (transfer full) */
RrCert *rr_cert_new(const char *common_name, GError **error);
RrCert *rr_cert_ref(RrCert *cert);
void rr_cert_unref(RrCert *cert);

/* (transfer none): the certificate and key, valid while @cert lives. */
X509 *rr_cert_get_x509(RrCert *cert);
EVP_PKEY *rr_cert_get_pkey(RrCert *cert);

/* (transfer none): "AB:CD:.." SHA-256 fingerprint of the certificate's DER encoding. */
const char *rr_cert_get_fingerprint(RrCert *cert);

/* (transfer full): the fingerprint of @x509 with the RFC 8122 hash @alg ("sha-256",
 * case-insensitive), "AB:CD:..", or NULL with an error for an unknown hash. */
char *rr_cert_fingerprint_x509(X509 *x509, const char *alg, GError **error);

/* Parse "ab:cd:.." / "ABCD.." (colons optional, any case) into bytes; returns the
 * number of bytes written to @out (at most @out_size), or 0 with an error. */
gsize rr_cert_fingerprint_parse(const char *hex, guint8 *out, gsize out_size, GError **error);

/* The OpenSSL digest of an RFC 8122 hash name, or NULL (with an error) if unknown. */
const EVP_MD *rr_cert_fingerprint_md(const char *alg, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RrCert, rr_cert_unref)

G_END_DECLS
