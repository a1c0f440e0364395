/* worker/log: roomrec's log output.
 *
 * Installs a GLib structured-log writer that prints one line per message, as text
 * ("2026-11-21T12:00:00.000Z INFO rtc [job EG_x] message") or as JSON objects, with the
 * job id on every line. Before anything is written, the message goes through
 * rr_log_redact(): registered secrets (API secret, tokens, TURN and S3 credentials) and
 * anything that looks like a JWT or a credential parameter are replaced by "[redacted]".
 *
 * Call rr_log_init() once from main() before any other thread starts; the other
 * functions are thread-safe. Strings returned are owned by the caller.
 */
#pragma once

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef enum {
    RR_LOG_FORMAT_TEXT,
    RR_LOG_FORMAT_JSON,
} RrLogFormat;

void rr_log_init(RrLogFormat format, GLogLevelFlags min_level);
void rr_log_set_job_id(const char *job_id);
/* Never print @secret (copied; strings shorter than 4 bytes are ignored). */
void rr_log_add_secret(const char *secret);
/* (transfer full): @message with every secret and credential-looking part replaced. */
char *rr_log_redact(const char *message);
/* Format one record as the writer would (without the trailing newline). */
char *rr_log_format(RrLogFormat format, GLogLevelFlags level, const char *domain,
                    const char *message, gint64 unix_usec);
/* A status line for a terminal (no newline): drawn at once, in place of the previous one,
 * and kept below the log records written after it (each record clears it, is printed, and
 * the line is drawn again). NULL clears it for good. Redacted like a record. */
void rr_log_status_line(const char *line);
/* Where records and the status line go (default stderr; for tests). */
void rr_log_set_output(FILE *out);

G_END_DECLS
