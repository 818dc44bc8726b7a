/*
 * sim_plot.c - run gnuplot on an experiment's scripts (see sim_plot.h).
 *
 * The scripts own the figures (titles, axes, units); this file only finds
 * them and gnuplot and runs one process per script with fork/exec, so no
 * shell ever sees a path.  Paths are passed as gnuplot single-quoted
 * strings, where a quote is written twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim_plot.h"

/* gnuplot's path into buf, or false when it is not installed. */
static bool find_gnuplot(char *buf, size_t len)
{
    const char *env = getenv("GNUPLOT");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return access(buf, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < len - 10) {
            snprintf(buf, len, "%.*s/gnuplot", (int)n, path);
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
                return true;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return false;
}

/* Append s as a gnuplot single-quoted string. */
static void quote_into(char *buf, size_t len, size_t *o, const char *s)
{
    if (*o < len)
        buf[(*o)++] = '\'';
    for (; *s && *o + 2 < len; s++) {
        if (*s == '\'')
            buf[(*o)++] = '\'';
        buf[(*o)++] = *s;
    }
    if (*o < len)
        buf[(*o)++] = '\'';
    buf[*o < len ? *o : len - 1] = '\0';
}

static int run_script(const char *gnuplot, const char *script, const char *csv, const char *out,
                      const char *const *vars, struct vm_diag *d)
{
    char expr[4 * PATH_MAX];
    size_t o = 0;
    o += (size_t)snprintf(expr, sizeof expr, "csv=");
    quote_into(expr, sizeof expr, &o, csv);
    o += (size_t)snprintf(expr + o, sizeof expr - o, "; out=");
    quote_into(expr, sizeof expr, &o, out);
    for (int i = 0; vars && vars[i] && vars[i + 1] && o < sizeof expr; i += 2) {
        o += (size_t)snprintf(expr + o, sizeof expr - o, "; %s=", vars[i]);
        quote_into(expr, sizeof expr, &o, vars[i + 1]);
    }

    /* gnuplot's chatter (e.g. a series with no rows in a --quick run) goes
     * to OUT.plot.log, which is kept only when the script fails */
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s.plot.log", out);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return vm_diag_set(d, VM_EIO, "%s: cannot start gnuplot: %s", script, strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        char *argv[] = { (char *)gnuplot, (char *)"-e", expr, (char *)script, NULL };
        execv(gnuplot, argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return vm_diag_set(d, VM_EIO, "%s: waiting for gnuplot: %s", script, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        unlink(log);
        return 0;
    }
    if (WIFEXITED(status))
        return vm_diag_set(d, VM_EIO, "%s: gnuplot exited with status %d (see %s)", script,
                           WEXITSTATUS(status), log);
    return vm_diag_set(d, VM_EIO, "%s: gnuplot killed by signal %d", script, WTERMSIG(status));
}

int sim_plot_draw(const char *plots_dir, const char *out_dir, const char *name,
                  const char *const *vars, char (*drawn)[1024], int max_drawn, struct vm_diag *d)
{
    char pat[2][PATH_MAX], gnuplot[PATH_MAX], csv[PATH_MAX];
    snprintf(pat[0], sizeof pat[0], "%s/%s.gp", plots_dir, name);
    snprintf(pat[1], sizeof pat[1], "%s/%s.*.gp", plots_dir, name);
    snprintf(csv, sizeof csv, "%s/%s.csv", out_dir, name);

    glob_t g;
    memset(&g, 0, sizeof g);
    int flags = 0;
    for (int i = 0; i < 2; i++) {
        int rc = glob(pat[i], flags, NULL, &g);
        if (rc == 0 || rc == GLOB_NOMATCH)
            flags = GLOB_APPEND;
    }
    if (g.gl_pathc == 0) {
        globfree(&g);
        return 0;
    }
    if (!find_gnuplot(gnuplot, sizeof gnuplot)) {
        globfree(&g);
        return vm_diag_set(d, VM_ENOTSUP, "gnuplot not found, no plots drawn "
                           "(install the Debian package 'gnuplot-nox')");
    }
    int nr = 0, rc = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *script = g.gl_pathv[i];
        const char *base = strrchr(script, '/');
        base = base ? base + 1 : script;
        char out[1024];
        snprintf(out, sizeof out, "%s/%.*s", out_dir, (int)(strlen(base) - 3), base);
        rc = run_script(gnuplot, script, csv, out, vars, d);
        if (rc)
            break;
        if (drawn && nr < max_drawn)
            snprintf(drawn[nr], sizeof drawn[nr], "%s", out);
        nr++;
    }
    globfree(&g);
    return rc ? rc : nr;
}
