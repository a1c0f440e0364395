/* A receive-side check pipeline for tests: RTP packets pushed into appsrc ->
 * rtpjitterbuffer -> depayloader -> decoder -> raw video (I420) or audio (S16 mono
 * 48 kHz) pulled from an appsink, each with its wall-clock time.
 *
 * Threads: push from any thread; pull from one thread. The caller owns the decoder
 * and frees it with rr_media_decoder_free() after pulling has stopped. */
#ifndef RR_MEDIA_DECODER_H
#define RR_MEDIA_DECODER_H

#include <stdint.h>

typedef struct RrMediaDecoder RrMediaDecoder;

typedef struct {
    int64_t time_ns; /* Unix ns: pipeline base time + running time of the output */
    int width, height;
    double luma;      /* video: mean Y over the frame, 0..255 */
    int16_t *samples; /* audio: malloc()ed mono samples (caller frees), else NULL */
    int n_samples;
} RrMediaDecoded;

enum { RR_MEDIA_PULL_TIMEOUT = 0, RR_MEDIA_PULL_SAMPLE = 1, RR_MEDIA_PULL_EOS = 2 };

RrMediaDecoder *rr_media_decoder_new(const char *desc, char **err);
void rr_media_decoder_push(RrMediaDecoder *d, const void *data, int len);
void rr_media_decoder_end(RrMediaDecoder *d);
int rr_media_decoder_pull(RrMediaDecoder *d, int timeout_ms, RrMediaDecoded *out);
/* Returns a malloc()ed error text posted on the bus, or NULL. */
char *rr_media_decoder_error(RrMediaDecoder *d);
void rr_media_decoder_free(RrMediaDecoder *d);

#endif
