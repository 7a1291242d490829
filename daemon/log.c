/* log: the daemon's only writer to stderr. Under journald (JOURNAL_STREAM
 * set) a line carries a <N> priority prefix and no timestamp, because the
 * journal stamps it; elsewhere it carries a local timestamp and the level.
 * The whole line is formatted first and written with one call so lines
 * from different threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int level_syslog[] = { 3, 4, 6, 7 };

void log_set_level(enum log_level lvl)
{
	atomic_store(&log_level, (int)lvl);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

const char *log_level_name(enum log_level lvl)
{
	return (unsigned)lvl < 4 ? level_names[lvl] : "?";
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if ((int)lvl > atomic_load(&log_level))
		return;
	char line[2048];
	size_t off = 0;
	if (getenv("JOURNAL_STREAM")) {
		int n = snprintf(line, sizeof line, "<%d>", level_syslog[lvl]);
		off = n > 0 ? (size_t)n : 0;
	} else {
		struct timeval tv;
		struct tm tm;
		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		int n = snprintf(line, sizeof line,
				 "%04d-%02d-%02d %02d:%02d:%02d.%03ld %-5s ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				 tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (long)(tv.tv_usec / 1000), level_names[lvl]);
		off = n > 0 ? (size_t)n : 0;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line + off, sizeof line - off - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	size_t len = off + (size_t)n;
	if (len > sizeof line - 2) {
		len = sizeof line - 5;
		memcpy(line + len, "...", 3);
		len += 3;
	}
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
