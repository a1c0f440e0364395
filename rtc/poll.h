/* rtc/poll: fewer wake-ups for a thread that receives media.
 *
 * A recorder's thread that receives RTP otherwise wakes for every datagram: about 400 a
 * second for a room of four, each a context switch that costs more than reading and
 * decrypting the packet. rr_poll_coalesce() gives a GMainContext a poll function that,
 * when nothing is ready, first waits one tick (or less, when a timeout is due sooner) and
 * then polls: whatever arrived meanwhile is read in one wake-up. Packets wait at most one
 * tick longer, which the jitter buffers (hundreds of milliseconds) absorb; timers fire up
 * to one tick late.
 *
 * The poll function belongs to the context: set it on a context whose every source can
 * take that delay (the recorder's own loop), not on one shared with latency-bound work.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The tick used when 0 is passed, in milliseconds. */
#define RR_POLL_COALESCE_DEFAULT_MS 10
/* Environment variable that sets the tick when 0 is passed: 0 turns coalescing off,
 * 1..100 milliseconds. */
#define RR_POLL_COALESCE_ENV "ROOMREC_POLL_TICK_MS"

/* Makes @context (NULL: the global default) coalesce wake-ups into ticks of @tick_ms
 * (0: $ROOMREC_POLL_TICK_MS, else RR_POLL_COALESCE_DEFAULT_MS; at most 100). Applies to
 * every context set up this way in the process (one tick for all). */
void rr_poll_coalesce(GMainContext *context, guint tick_ms);

G_END_DECLS
