/* SPDX-License-Identifier: Apache-2.0 */
/* The replay main: runs LLVMFuzzerTestOneInput once on every file given, or on every file of every
 * directory given (sorted by name), as an ordinary program (suite fuzz-regress). An input that
 * breaks the oracle aborts, a sanitizer report kills the process: either way the name of the input
 * is printed first, so the failing corpus file is known.
 *
 * Usage: replay_<target> [-v] [-k] FILE|DIR...
 *   -v  one line per input
 *   -k  keep going: each input runs in a child process, a failing one is reported and the rest
 *       still run (the campaign uses it for coverage and triage; the suite stops at the first) */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* scandir is POSIX 2008 */
#endif
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static char current[4096];
static long replayed, failed;
static int keep_going;

static void say_where(void)
{
    /* write(2) only: this runs inside signal handlers and sanitizer death callbacks. */
    static const char a[] = "replay: FAILED on input ";
    if (current[0] == '\0')
        return;
    if (write(2, a, sizeof a - 1) < 0 || write(2, current, strlen(current)) < 0 ||
        write(2, "\n", 1) < 0)
        return;
}

static void on_signal(int sig)
{
    say_where();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int replay_file(const char *path, int verbose)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 0;
    }
    size_t cap = 4096, len = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return 0;
    }
    snprintf(current, sizeof current, "%s", path);
    if (verbose)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    if (keep_going) {
        fflush(NULL);
        pid_t child = fork();
        if (child == 0) {
            /* An exact-size copy, so a harness that reads past its input is caught by ASan. */
            uint8_t *exact = malloc(len ? len : 1);
            if (exact != NULL) {
                memcpy(exact, buf, len);
                LLVMFuzzerTestOneInput(exact, len);
            }
            exit(exact != NULL ? 0 : 1); /* exit, not _exit: coverage and leak checks run */
        }
        int status = 0;
        int ok = child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
                 WEXITSTATUS(status) == 0;
        if (!ok) {
            failed++;
            fprintf(stderr, "replay: FAILED on input %s (%s %d)\n", path,
                    WIFSIGNALED(status) ? "signal" : "exit status",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
    } else {
        uint8_t *exact = malloc(len ? len : 1); /* exact size: over-reads are caught */
        if (exact != NULL) {
            memcpy(exact, buf, len);
            LLVMFuzzerTestOneInput(exact, len);
        }
        free(exact);
    }
    free(buf);
    current[0] = '\0';
    replayed++;
    return 1;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int skip_entry(const struct dirent *d)
{
    return d->d_name[0] != '.'; /* scandir filter: hidden files and . / .. are not inputs */
}

static int replay_dir(const char *dir, int verbose)
{
    struct dirent **names;
    int n = scandir(dir, &names, skip_entry, alphasort);
    int ok = n >= 0;
    if (!ok)
        fprintf(stderr, "replay: cannot read directory %s\n", dir);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (!is_dir(path))
            ok &= replay_file(path, verbose);
        free(names[i]);
    }
    free(names);
    return ok;
}

int main(int argc, char **argv)
{
    int verbose = 0, ok = 1, first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1] != '\0'; first++) {
        if (strcmp(argv[first], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[first], "-k") == 0)
            keep_going = 1;
        else
            break;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] [-k] FILE|DIR...\n", argv[0]);
        return 2;
    }
    /* Under a sanitizer its own handlers report faults (ours would replace them and lose the
     * report); its death callback names the input. abort() is not theirs to handle. */
    signal(SIGABRT, on_signal);
    if (__sanitizer_set_death_callback != NULL) {
        __sanitizer_set_death_callback(say_where);
    } else {
        signal(SIGSEGV, on_signal);
        signal(SIGBUS, on_signal);
        signal(SIGFPE, on_signal);
    }
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = first; i < argc; i++)
        ok &= is_dir(argv[i]) ? replay_dir(argv[i], verbose) : replay_file(argv[i], verbose);
    if (!ok)
        failed++; /* an input that could not be read */
    printf("replayed %ld inputs\n%ld passed, %ld failed\n", replayed, replayed - failed, failed);
    return failed == 0 ? 0 : 1;
}
