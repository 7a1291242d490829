/* err: filling and prefixing error records. Bounded formatting only; a
 * message that does not fit is cut, never overflowed. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void copy_bounded(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

void err_set(struct err *e, int status, const char *code, const char *field,
	     const char *fmt, ...)
{
	if (!e)
		return;
	e->status = status;
	copy_bounded(e->code, sizeof e->code, code);
	copy_bounded(e->field, sizeof e->field, field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
}

void err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return;
	char head[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	/* a message cut at the end is better than no message */
	size_t hlen = strlen(head), mlen = strlen(e->message);
	size_t cap = sizeof e->message - 1;
	if (hlen > cap)
		hlen = cap;
	if (hlen + mlen > cap)
		mlen = cap - hlen;
	memmove(e->message + hlen, e->message, mlen);
	memcpy(e->message, head, hlen);
	e->message[hlen + mlen] = '\0';
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->status = 0;
	e->code[0] = e->field[0] = e->message[0] = '\0';
}
