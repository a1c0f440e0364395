/* pipeline/output-file: the final move of a recording. See output-file.h. */
#include "pipeline/output-file.h"

#include "pipeline/pipeline-error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

gboolean rr_output_file_commit(const char *temp_path, const char *path, GError **error)
{
    int err = 0;
    if (renameat2(AT_FDCWD, temp_path, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
        err = errno;
        if (err == EINVAL || err == ENOSYS) {
            /* No RENAME_NOREPLACE here: link() refuses an existing target as well. */
            err = link(temp_path, path) == 0 ? 0 : errno;
            if (err == 0)
                unlink(temp_path);
        }
    }
    if (err != 0) {
        g_set_error(error, RR_PIPELINE_ERROR, RR_PIPELINE_ERROR_IO, "cannot rename %s to %s: %s",
                    temp_path, path, g_strerror(err));
        return FALSE;
    }
    return TRUE;
}
