/* Fuzz target for rtc/dtls: arbitrary datagrams fed to a client that has just sent its
 * ClientHello. Input: a sequence of datagrams, each prefixed by a 2-byte big-endian
 * length; bytes that do not form a complete frame are fed as one last datagram. Nothing
 * may crash, leak or call out after a failure. */
#include "rtc/cert.h"
#include "rtc/dtls.h"

#include <stdint.h>
#include <stdlib.h>

static void on_send(RrDtlsClient *c, const guint8 *data, gsize len, gpointer ud)
{
}

static void on_failed(RrDtlsClient *c, const GError *error, gpointer ud)
{
    if (!error || !error->message)
        abort();
    (*(int *)ud)++;
}

static const RrDtlsCallbacks callbacks = {.send = on_send, .failed = on_failed};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static RrCert *cert;
    static GMainContext *ctx;
    if (!cert) {
        cert = rr_cert_new(NULL, NULL);
        ctx = g_main_context_new();
    }
    int failures = 0;
    RrDtlsClient *c = rr_dtls_client_new(ctx, cert, "sha-256", rr_cert_get_fingerprint(cert),
                                         &callbacks, &failures, NULL);
    if (!c)
        abort();
    rr_dtls_client_start(c);
    size_t off = 0;
    while (off < size) {
        size_t len = size - off;
        if (size - off >= 2) {
            size_t framed = (size_t)data[off] << 8 | data[off + 1];
            if (framed <= size - off - 2) {
                off += 2;
                len = framed;
            }
        }
        rr_dtls_client_handle_datagram(c, data + off, len);
        off += len;
        if (len == 0)
            break;
    }
    if (failures > 1)
        abort(); /* failed is reported once */
    rr_dtls_client_free(c);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    return 0;
}
