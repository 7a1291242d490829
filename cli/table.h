/* table: the client's text tables. Column widths are in terminal
 * columns, so a Chinese character counts 2 and the columns of rows with
 * Chinese names still line up; a table for a terminal is cut to fit. */
#ifndef SCICAST_CLI_TABLE_H
#define SCICAST_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* In a cell, these two bytes start and end bold text; they take no
 * width and are dropped when the output is not a terminal. */
#define TABLE_BOLD_ON '\x01'
#define TABLE_BOLD_OFF '\x02'

struct table {
	size_t ncols;
	const char *const *heads;
	unsigned right;   /* bit i: column i is right-aligned (numbers) */
	char **cells;     /* row-major, nrows * ncols, cleaned copies */
	size_t ncells, cap;
	bool failed;      /* an allocation failed: print says so */
};

/* heads must outlive the table; at most 32 columns. */
void table_init(struct table *t, size_t ncols, const char *const *heads);
void table_right(struct table *t, size_t col);
/* Adds the next cell, row by row. Control characters become spaces.
 * NULL is an empty cell. */
void table_cell(struct table *t, const char *text);
void table_cellf(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
size_t table_rows(const struct table *t);
/* Prints heads and rows, two spaces between columns. max_width > 0 cuts
 * the widest columns (with "…") until a row fits; ansi turns the bold
 * markers into escape sequences. Returns 0, or -1 if memory ran out. */
int table_print(const struct table *t, FILE *out, size_t max_width,
		bool ansi);
void table_free(struct table *t);

/* Prints one line of text to out, cut with "…" to width columns (0:
 * never cut), control characters as spaces; adds the newline. */
void table_line(FILE *out, size_t width, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Terminal columns of UTF-8 text (bold markers take none). */
size_t table_text_width(const char *s);

#endif
