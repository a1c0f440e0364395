/* rtc/cert: see cert.h. */
#define G_LOG_DOMAIN "rtc"

#include "rtc/cert.h"
#include "rtc/rtc-error.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>

struct RrCert {
    gint refcount;
    EVP_PKEY *pkey;
    X509 *x509;
    char *fingerprint;
};

static void set_openssl_error(GError **error, const char *what)
{
    char buf[256] = "unknown error";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_DTLS, "%s: %s", what, buf);
}

const EVP_MD *rr_cert_fingerprint_md(const char *alg, GError **error)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } algs[] = {
        {"sha-1", EVP_sha1},     {"sha-224", EVP_sha224}, {"sha-256", EVP_sha256},
        {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512},
    };
    for (gsize i = 0; alg && i < G_N_ELEMENTS(algs); i++) {
        if (g_ascii_strcasecmp(alg, algs[i].name) == 0)
            return algs[i].md();
    }
    g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_UNSUPPORTED,
                "unsupported fingerprint hash \"%s\"", alg ? alg : "(null)");
    return NULL;
}

static char *format_hex(const guint8 *bytes, gsize len)
{
    GString *s = g_string_sized_new(len * 3);
    for (gsize i = 0; i < len; i++)
        g_string_append_printf(s, i ? ":%02X" : "%02X", bytes[i]);
    return g_string_free(s, FALSE);
}

char *rr_cert_fingerprint_x509(X509 *x509, const char *alg, GError **error)
{
    const EVP_MD *md = rr_cert_fingerprint_md(alg, error);
    if (!md)
        return NULL;
    guint8 digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!X509_digest(x509, md, digest, &len)) {
        set_openssl_error(error, "certificate digest failed");
        return NULL;
    }
    return format_hex(digest, len);
}

gsize rr_cert_fingerprint_parse(const char *hex, guint8 *out, gsize out_size, GError **error)
{
    gsize n = 0;
    const char *p = hex;
    while (p && *p) {
        if (*p == ':') {
            p++;
            continue;
        }
        int hi = g_ascii_xdigit_value(p[0]);
        int lo = p[1] ? g_ascii_xdigit_value(p[1]) : -1;
        if (hi < 0 || lo < 0 || n >= out_size) {
            g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT,
                        "malformed fingerprint \"%.120s\"", hex);
            return 0;
        }
        out[n++] = (guint8)(hi << 4 | lo);
        p += 2;
    }
    if (n == 0)
        g_set_error(error, RR_RTC_ERROR, RR_RTC_ERROR_INVALID_INPUT, "empty fingerprint");
    return n;
}

RrCert *rr_cert_new(const char *common_name, GError **error)
{
    g_autoptr(RrCert) cert = g_new0(RrCert, 1);
    cert->refcount = 1;
    cert->pkey = EVP_EC_gen("P-256");
    if (!cert->pkey) {
        set_openssl_error(error, "ECDSA P-256 key generation failed");
        return NULL;
    }
    cert->x509 = X509_new();
    X509 *x = cert->x509;
    guint8 serial[8];
    BIGNUM *bn = NULL;
    X509_NAME *name = NULL;
    gboolean ok = x && RAND_bytes(serial, sizeof serial) == 1;
    if (ok) {
        serial[0] &= 0x7f; /* positive */
        bn = BN_bin2bn(serial, sizeof serial, NULL);
        ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
        BN_free(bn);
    }
    ok = ok && X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
         X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) && X509_set_pubkey(x, cert->pkey);
    if (ok) {
        name = X509_get_subject_name(x);
        const char *cn = common_name ? common_name : "roomrec";
        ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const guint8 *)cn, -1, -1, 0) &&
             X509_set_issuer_name(x, name) && X509_sign(x, cert->pkey, EVP_sha256()) > 0;
    }
    if (!ok) {
        set_openssl_error(error, "self-signed certificate creation failed");
        return NULL;
    }
    cert->fingerprint = rr_cert_fingerprint_x509(x, "sha-256", error);
    if (!cert->fingerprint)
        return NULL;
    return g_steal_pointer(&cert);
}

RrCert *rr_cert_ref(RrCert *cert)
{
    g_return_val_if_fail(cert != NULL, NULL);
    g_atomic_int_inc(&cert->refcount);
    return cert;
}

void rr_cert_unref(RrCert *cert)
{
    if (!cert || !g_atomic_int_dec_and_test(&cert->refcount))
        return;
    X509_free(cert->x509);
    EVP_PKEY_free(cert->pkey);
    g_free(cert->fingerprint);
    g_free(cert);
}

X509 *rr_cert_get_x509(RrCert *cert)
{
    return cert->x509;
}

EVP_PKEY *rr_cert_get_pkey(RrCert *cert)
{
    return cert->pkey;
}

const char *rr_cert_get_fingerprint(RrCert *cert)
{
    return cert->fingerprint;
}
