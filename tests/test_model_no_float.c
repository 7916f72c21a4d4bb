/* SPDX-License-Identifier: Apache-2.0 */
/* Guards spec/numerics.md §8: the reference model in spec/model/ is integer arithmetic only.
 *
 * Scans every .c and .h file of spec/model/ (or the directory given as argv[1]) with comments,
 * string and character literals removed, and fails on: the types float / double (so also long
 * double) and their GNU/C2x cousins, floating literals (1.0, .5, 1e3, 0x1p3, 1.f), the headers
 * <math.h> <tgmath.h> <fenv.h> <float.h> <complex.h>, C library math functions, inline assembly,
 * and any __builtin_ that is not on a short list of integer builtins. Before scanning it checks
 * itself on snippets that must and must not be flagged. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define MAX_SOURCE (1 << 20)

/* Identifiers that name floating types, FP environment, or assembly. */
static const char *const banned_words[] = {
    "float", "double", "_Float16", "_Float32", "_Float64", "_Float128", "_Float32x", "_Float64x",
    "__float128", "__float80", "__fp16", "__bf16", "_Complex", "_Imaginary", "_Decimal32",
    "_Decimal64", "_Decimal128", "asm", "__asm", "__asm__",
    /* <math.h> functions a compiler may know without the header */
    "sqrt", "sqrtf", "fabs", "fabsf", "floor", "floorf", "ceil", "ceilf", "rint", "rintf",
    "nearbyint", "nearbyintf", "lrint", "lrintf", "llrint", "round", "roundf", "lround", "trunc",
    "truncf", "fma", "fmaf", "ldexp", "ldexpf", "frexp", "frexpf", "scalbn", "scalbnf", "ilogb",
    "modf", "fmod", "fmin", "fmax", "copysign", "copysignf", "nextafter", "nextafterf", "isnan",
    "isinf", "isfinite", "signbit", "fpclassify", "powf", "expf", "logf", "HUGE_VAL", "INFINITY",
    "NAN",     NULL};

/* The integer builtins the model may use. */
static const char *const allowed_builtins[] = {
    "__builtin_clz", "__builtin_clzll", "__builtin_ctz", "__builtin_ctzll", "__builtin_popcount",
    "__builtin_popcountll", "__builtin_expect", "__builtin_unreachable", "__builtin_add_overflow",
    "__builtin_sub_overflow", "__builtin_mul_overflow", NULL};

static const char *const banned_headers[] = {"math.h", "tgmath.h", "fenv.h", "float.h",
                                             "complex.h", NULL};

static int in_list(const char *const *list, const char *word)
{
    for (int i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], word) == 0)
            return 1;
    return 0;
}

static int is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Copies src to dst with comments, string literals and character literals replaced by spaces
 * (newlines kept, so line numbers stay right). Header names in #include <...> survive. */
static void strip(const char *src, char *dst)
{
    size_t i = 0;
    while (src[i] != '\0') {
        if (src[i] == '/' && src[i + 1] == '*') {
            dst[i] = dst[i + 1] = ' ';
            i += 2;
            while (src[i] != '\0' && !(src[i] == '*' && src[i + 1] == '/')) {
                dst[i] = src[i] == '\n' ? '\n' : ' ';
                i++;
            }
            for (int t = 0; t < 2 && src[i] != '\0'; t++)
                dst[i++] = ' ';
        } else if (src[i] == '/' && src[i + 1] == '/') {
            while (src[i] != '\0' && src[i] != '\n')
                dst[i++] = ' ';
        } else if (src[i] == '"' || src[i] == '\'') {
            char q = src[i];
            dst[i++] = ' ';
            while (src[i] != '\0' && src[i] != q && src[i] != '\n') {
                if (src[i] == '\\' && src[i + 1] != '\0')
                    dst[i++] = ' ';
                dst[i++] = ' ';
            }
            if (src[i] == q)
                dst[i++] = ' ';
        } else {
            dst[i] = src[i];
            i++;
        }
    }
    dst[i] = '\0';
}

/* A preprocessing number starting at s (C11 6.4.8); returns its length, sets *is_float. */
static size_t pp_number(const char *s, int *is_float)
{
    size_t n = 0;
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    *is_float = 0;
    for (;;) {
        char c = s[n];
        int exp_mark = hex ? (c == 'p' || c == 'P') : (c == 'e' || c == 'E');
        if (c == '.' || exp_mark)
            *is_float = 1;
        if (exp_mark && (s[n + 1] == '+' || s[n + 1] == '-'))
            n += 2;
        else if (c == '.' || is_ident_char(c))
            n++;
        else
            return n;
    }
}

/* Is the stripped line at p a preprocessing directive (not inside a comment)? */
static int is_directive(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '#';
}

/* #include <name> or "name" on the (unstripped) line at line: 1 when name is banned. */
static int banned_include(const char *line)
{
    char buf[512];
    size_t n = 0;
    while (line[n] != '\0' && line[n] != '\n' && n + 1 < sizeof buf) {
        buf[n] = line[n];
        n++;
    }
    buf[n] = '\0';
    const char *p = strchr(buf, '#') + 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, "include", 7) != 0)
        return 0;
    for (int i = 0; banned_headers[i] != NULL; i++) {
        const char *h = strstr(p, banned_headers[i]);
        if (h != NULL && (h[-1] == '<' || h[-1] == '"' || h[-1] == '/'))
            return 1;
    }
    return 0;
}

static int line_of(const char *text, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++)
        line += text[i] == '\n';
    return line;
}

static int report(const char *name, const char *text, size_t pos, const char *what)
{
    if (name != NULL)
        fprintf(stderr, "%s:%d: %s\n", name, line_of(text, pos), what);
    return 1;
}

static int bad_word(const char *word)
{
    if (in_list(banned_words, word))
        return 1;
    return strncmp(word, "__builtin_", 10) == 0 && !in_list(allowed_builtins, word);
}

/* Scans one identifier or number at text[*i]; advances *i; returns the number of findings. */
static int scan_token(const char *name, const char *text, size_t *i)
{
    const char *s = text + *i;
    if (is_digit(s[0]) || (s[0] == '.' && is_digit(s[1]))) {
        int fl;
        size_t len = pp_number(s, &fl);
        *i += len;
        return fl ? report(name, text, (size_t)(s - text), "floating literal") : 0;
    }
    size_t len = 0;
    char word[64];
    while (is_ident_char(s[len]))
        len++;
    *i += len;
    if (len >= sizeof word)
        return 0;
    memcpy(word, s, len);
    word[len] = '\0';
    return bad_word(word) ? report(name, text, (size_t)(s - text), word) : 0;
}

/* Number of findings in a source text; name (may be NULL) is used in messages. */
static int scan_text(const char *name, const char *src)
{
    size_t len = strlen(src);
    char *text = malloc(len + 1);
    if (text == NULL)
        return 1;
    strip(src, text);
    int found = 0;
    for (size_t i = 0; i < len;) {
        if ((i == 0 || text[i - 1] == '\n') && is_directive(text + i))
            if (banned_include(src + i))
                found += report(name, text, i, "banned header");
        if (is_ident_char(text[i]) || (text[i] == '.' && is_digit(text[i + 1])))
            found += scan_token(name, text, &i);
        else
            i++;
    }
    free(text);
    return found;
}

static void self_test(void)
{
    static const char *const bad[] = {
        "float x;",       "double y;",         "long double z;",  "int a = 1.0;",
        "int a = .5;",    "int a = 1e3;",      "int a = 2E-3;",   "int a = 0x1p3;",
        "int a = 0x1.8P+1;", "int a = 1.f;",   "int a = 5.;",     "#include <math.h>",
        " #  include <fenv.h>", "#include <float.h>", "x = __builtin_inff();",
        "x = __builtin_fabs(y);", "_Float16 h;", "__asm__(\"nop\");", "y = sqrt(x);",
        "a = x / 2.0 + 1;", "#include \"math.h\"", "#define HALF 0.5", NULL};
    static const char *const good[] = {
        "int a = 0xE5;",   "unsigned b = 10u;", "uint64_t c = 0x4000FFFFFFFFULL;",
        "/* float 1.5 */ int d;", "// double 2.0\nint e;", "const char *s = \"double 1.0\";",
        "char c = '.';",   "x = s.e1;",          "y = a[1].mag;",    "z = __builtin_clzll(w);",
        "int floaty, doubled, rounds;", "#include <stdint.h>", "int exp = x.exp;",
        "/*\n#include <math.h>\n*/", "#include \"mymath.h\"", NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        int found = scan_text(NULL, bad[i]);
        CHECK(found > 0);
        if (found == 0)
            fprintf(stderr, "  missed: %s\n", bad[i]);
    }
    for (int i = 0; good[i] != NULL; i++) {
        int found = scan_text(NULL, good[i]);
        CHECK(found == 0);
        if (found != 0)
            fprintf(stderr, "  false alarm: %s\n", good[i]);
    }
}

static int has_source_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 2 && name[n - 2] == '.' && (name[n - 1] == 'c' || name[n - 1] == 'h');
}

/* Reads path into a NUL-terminated buffer; NULL on failure or when it is too large. */
static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(MAX_SOURCE + 1);
    size_t n = buf != NULL ? fread(buf, 1, MAX_SOURCE + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n > MAX_SOURCE) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void scan_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *src = read_all(path);
    CHECK(src != NULL);
    if (src == NULL)
        return;
    CHECK_EQ_I64(scan_text(path, src), 0);
    free(src);
}

/* Returns how many sources were scanned; the model's own files must be among them. */
static int scan_dir(const char *dir, int *saw_softfp, int *saw_model)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (d == NULL)
        return 0;
    int count = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (!has_source_suffix(e->d_name))
            continue;
        *saw_softfp |= strcmp(e->d_name, "softfp.c") == 0;
        *saw_model |= strcmp(e->d_name, "model.c") == 0;
        scan_file(dir, e->d_name);
        count++;
    }
    closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "spec/model";
    self_test();
    int saw_softfp = 0, saw_model = 0;
    int count = scan_dir(dir, &saw_softfp, &saw_model);
    printf("scanned %d source files in %s\n", count, dir);
    CHECK(saw_softfp && saw_model); /* a wrong directory must not pass silently */
    return check_summary();
}
