/* table: widths come from util_screen_width2 (a wide character is 2
 * columns, anything else 1). Cells are cleaned when added — the server's
 * text goes to a terminal, and an escape sequence in a region name must
 * not move the cursor — so printing only measures and pads. */
#include "table.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

#define TABLE_MAX_COLS 32
/* A column is never cut below this (or its heading, if shorter). */
#define TABLE_MIN_COL 6

void table_init(struct table *t, size_t ncols, const char *const *heads)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	t->heads = heads;
}

void table_right(struct table *t, size_t col)
{
	if (col < t->ncols)
		t->right |= 1u << col;
}

/* Bytes in the UTF-8 sequence at p (at most n) and its code point; an
 * invalid sequence is one byte, U+FFFD. */
static size_t table__step(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2
		   : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (!len || len > n || !util_utf8_valid((const char *)p, len)) {
		*cp = 0xFFFD;
		return 1;
	}
	uint32_t v = len == 1 ? p[0] : p[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++)
		v = (v << 6) | (p[i] & 0x3F);
	*cp = v;
	return len;
}

static size_t table__char_width(const char *p, size_t len)
{
	if (len == 1 && (*p == TABLE_BOLD_ON || *p == TABLE_BOLD_OFF))
		return 0;
	return util_screen_width2(p, len);
}

size_t table_text_width(const char *s)
{
	size_t w = 0, n = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	while (n) {
		uint32_t cp;
		size_t len = table__step(p, n, &cp);
		w += table__char_width((const char *)p, len);
		p += len;
		n -= len;
	}
	return w;
}

/* A copy fit for a terminal: C0 and C1 controls become spaces (but for
 * the bold markers), invalid UTF-8 becomes '?'. */
static char *table__clean(const char *s)
{
	struct buf b = BUF_INIT;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	int r = 0;
	while (n && r == 0) {
		uint32_t cp;
		size_t len = table__step(p, n, &cp);
		if (cp == 0xFFFD && len == 1)
			r = buf_append_char(&b, '?');
		else if ((cp < 0x20 && cp != (uint32_t)TABLE_BOLD_ON &&
			  cp != (uint32_t)TABLE_BOLD_OFF) ||
			 (cp >= 0x7F && cp < 0xA0))
			r = buf_append_char(&b, ' ');
		else
			r = buf_append(&b, p, len);
		p += len;
		n -= len;
	}
	if (r < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b); /* "" when nothing was appended */
}

void table_cell(struct table *t, const char *text)
{
	if (t->failed)
		return;
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **cells = realloc(t->cells, cap * sizeof *cells);
		if (!cells) {
			t->failed = true;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	char *c = table__clean(text);
	if (!c) {
		t->failed = true;
		return;
	}
	t->cells[t->ncells++] = c;
}

void table_cellf(struct table *t, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vappendf(&b, fmt, ap);
	va_end(ap);
	if (r < 0)
		t->failed = true;
	else
		table_cell(t, buf_str(&b));
	buf_free(&b);
}

size_t table_rows(const struct table *t)
{
	return t->ncols ? t->ncells / t->ncols : 0;
}

/* Appends s to out cut to width columns (with "…" when cut), padded to
 * width unless it is the last column; bold markers become escapes or
 * nothing. */
static int table__put(struct buf *out, const char *s, size_t width,
		      bool right, bool last, bool ansi)
{
	size_t full = table_text_width(s);
	size_t room = full > width ? (width ? width - 1 : 0) : full;
	size_t used = 0, n = strlen(s);
	bool bold = false;
	const unsigned char *p = (const unsigned char *)s;
	struct buf cell = BUF_INIT;
	int rc = -1;
	while (n) {
		uint32_t cp;
		size_t len = table__step(p, n, &cp);
		size_t w = table__char_width((const char *)p, len);
		if (used + w > room)
			break;
		if (len == 1 && (*p == TABLE_BOLD_ON || *p == TABLE_BOLD_OFF)) {
			bold = *p == TABLE_BOLD_ON;
			if (ansi && buf_append_str(&cell, bold ? "\033[1m"
							       : "\033[0m") < 0)
				goto done;
		} else if (buf_append(&cell, p, len) < 0) {
			goto done;
		}
		used += w;
		p += len;
		n -= len;
	}
	if (bold && ansi && buf_append_str(&cell, "\033[0m") < 0)
		goto done;
	if (full > width && width && buf_append_str(&cell, "…") < 0)
		goto done;
	if (full > width && width)
		used++;
	size_t pad = width > used ? width - used : 0;
	if (right)
		for (size_t i = 0; i < pad; i++)
			if (buf_append_char(out, ' ') < 0)
				goto done;
	if (buf_append(out, cell.data ? cell.data : "", cell.len) < 0)
		goto done;
	if (!right && !last)
		for (size_t i = 0; i < pad; i++)
			if (buf_append_char(out, ' ') < 0)
				goto done;
	rc = 0;
done:
	buf_free(&cell);
	return rc;
}

int table_print(const struct table *t, FILE *out, size_t max_width,
		bool ansi)
{
	size_t w[TABLE_MAX_COLS] = { 0 }, min[TABLE_MAX_COLS] = { 0 };
	size_t rows = table_rows(t), total = 0;
	struct buf line = BUF_INIT;
	int rc = -1;
	if (t->failed)
		goto done;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = table_text_width(t->heads[c]);
		min[c] = w[c] < TABLE_MIN_COL ? TABLE_MIN_COL : w[c];
		for (size_t r = 0; r < rows; r++) {
			size_t cw = table_text_width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
		if (min[c] > w[c])
			min[c] = w[c];
		total += w[c] + (c ? 2 : 0);
	}
	/* Take a column at a time from the widest until a row fits: the
	 * short columns (ids, counts, states) stay whole. */
	while (max_width && total > max_width) {
		size_t widest = t->ncols;
		for (size_t c = 0; c < t->ncols; c++)
			if (w[c] > min[c] && (widest == t->ncols || w[c] > w[widest]))
				widest = c;
		if (widest == t->ncols)
			break;
		w[widest]--;
		total--;
	}
	for (size_t r = 0; r <= rows; r++) {
		buf_reset(&line);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r == 0 ? t->heads[c]
					       : t->cells[(r - 1) * t->ncols + c];
			bool last = c + 1 == t->ncols;
			if ((c && buf_append_str(&line, "  ") < 0) ||
			    table__put(&line, s, w[c], (t->right >> c) & 1, last,
				       ansi) < 0)
				goto done;
		}
		if (buf_append_char(&line, '\n') < 0)
			goto done;
		fwrite(line.data, 1, line.len, out);
	}
	rc = 0;
done:
	if (rc < 0)
		fprintf(stderr, "scicast: out of memory\n");
	buf_free(&line);
	return rc;
}

void table_line(FILE *out, size_t width, const char *fmt, ...)
{
	struct buf raw = BUF_INIT, line = BUF_INIT;
	char *clean = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = buf_vappendf(&raw, fmt, ap);
	va_end(ap);
	if (r == 0 && (clean = table__clean(buf_str(&raw))) &&
	    table__put(&line, clean, width ? width : table_text_width(clean),
		       false, true, false) == 0 &&
	    buf_append_char(&line, '\n') == 0)
		fwrite(line.data, 1, line.len, out);
	free(clean);
	buf_free(&line);
	buf_free(&raw);
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}
