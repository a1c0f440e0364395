/* pipeline/output-file: how a finished recording gets its final name.
 *
 * A pipeline writes NAME.part and, once the file is playable, moves it to NAME; this
 * move never replaces a file that exists at NAME (renameat2 RENAME_NOREPLACE, or
 * link + unlink where the file system lacks it), so a recording cannot overwrite another
 * file, whoever created it meanwhile. Any thread; no state.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Moves @temp_path to @path unless @path exists. FALSE with RR_PIPELINE_ERROR_IO ("cannot
 * rename TEMP to PATH: REASON"; "File exists" when it does), @temp_path left in place. */
gboolean rr_output_file_commit(const char *temp_path, const char *path, GError **error);

G_END_DECLS
