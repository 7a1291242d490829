/* display: the terminal. Block mode (the default) prints one block per
 * event, which reads well in a log or over a serial console; --fullscreen
 * takes the alternate screen and redraws all of it whenever what is shown
 * changes. Colour is ANSI by severity (blue, yellow, orange, red
 * backgrounds), only on a terminal and unless NO_COLOR is set. Every text
 * from the network goes through display_clean first: an escape sequence
 * in a title must not reprogram the terminal. A screen is built in a
 * buffer and written with one call, so a redraw does not flicker.
 * Campaign notices are painted green (the daemon sends one calm colour
 * for all of them) and are never listed under an emergency: while one is
 * on, the notice is not on the screen at all. A drill's title line
 * always says 【演练】, whatever template made it. */
#define _GNU_SOURCE   /* strcasestr */
#include "screen.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "util.h"

#define TEXT_MAX 16384

static bool fullscreen;
static bool colour;
static bool was_empty = true;

#define RESET "\033[0m"

static const char *sev_style(const char *severity)
{
	switch (alerts_severity_rank(severity)) {
	case 1: return "\033[1;97;44m";         /* blue */
	case 2: return "\033[1;30;43m";         /* yellow */
	case 3: return "\033[1;30;48;5;208m";   /* orange (256 colours) */
	case 4: return "\033[1;97;41m";         /* red */
	default: return "\033[1;7m";
	}
}

#define NOTICE_STYLE "\033[1;97;42m"   /* green: everyday, not a warning */

static const char *slot_style(const struct screen_slot *slot)
{
	return slot->kind == SLOT_NOTICE ? NOTICE_STYLE
					 : sev_style(slot->msg.severity);
}

int display_open(const struct screen_opts *o)
{
	fullscreen = o->fullscreen;
	colour = fullscreen || (isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	if (fullscreen) {
		/* the alternate screen, cursor hidden; display_close gives
		 * the terminal back as it was */
		fputs("\033[?1049h\033[?25l", stdout);
		fflush(stdout);
	}
	return 0;
}

void display_close(void)
{
	if (fullscreen) {
		fputs(RESET "\033[?25h\033[?1049l", stdout);
		fflush(stdout);
	}
}

void display_clean(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	if (!cap)
		return;
	while (*p && o + 1 < cap) {
		if (*p == '\n') {
			out[o++] = '\n';
			p++;
		} else if (*p == '\t') {
			out[o++] = ' ';
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			p++;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			p += 2;   /* C1 controls, CSI among them */
		} else {
			/* copy a whole UTF-8 sequence or none of it */
			size_t n = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
			size_t k = 0;
			while (k < n && p[k])
				k++;
			if (k < n || o + n >= cap)
				break;
			memcpy(out + o, p, n);
			o += n;
			p += n;
		}
	}
	out[o] = '\0';
}

/* "2026-11-29T10:00:00+08:00" -> "2026-11-29 10:00", as the sender wrote
 * it: the time of the place the alert is about. */
static void short_time(const char *iso, char *out, size_t cap)
{
	char c[64];
	display_clean(iso, c, sizeof c);
	if (strlen(c) >= 16 && c[10] == 'T')
		snprintf(out, cap, "%.10s %.5s", c, c + 11);
	else
		snprintf(out, cap, "%s", c);
}

static int term_width(void)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 72;
}

static void rule(struct buf *b, const char *label)
{
	/* width2 counts a wide character as 2 and any other as 1: columns */
	int w = term_width() - (int)util_screen_width2(label, strlen(label)) - 4;
	buf_append_str(b, "── ");
	buf_append_str(b, label);
	buf_append_char(b, ' ');
	for (int i = 0; i < w && i < 300; i++)
		buf_append_str(b, "─");
	buf_append_char(b, '\n');
}

/* A line on the slot's colour, filled to the edge (erase-to-end-of-line
 * paints with the current background). */
static void band(struct buf *b, const char *style, const char *text)
{
	if (colour)
		buf_appendf(b, "%s %s \033[K" RESET "\n", style, text);
	else
		buf_appendf(b, "%s\n", text);
}

/* Does a title already say it is a drill (the default templates put
 * 【演练】 or [DRILL] first)? */
static bool says_drill(const char *title)
{
	return strstr(title, "演练") || strcasestr(title, "drill") ||
	       strcasestr(title, "exercise");
}

/* The title as shown: cleaned, and for a drill marked 【演练】 when the
 * template forgot to, so that a drill can never pass for the real thing
 * on a screen that shows only its title line. */
static void shown_title(const struct screen_msg *m, char *out, size_t cap)
{
	char *clean = malloc(TEXT_MAX);
	if (!clean) {
		snprintf(out, cap, "%s", m->exercise ? "【演练】" : "");
		return;
	}
	display_clean(m->title, clean, TEXT_MAX);
	if (m->exercise && !says_drill(clean))
		snprintf(out, cap, "【演练】%s", clean);
	else
		snprintf(out, cap, "%s", clean);
	free(clean);
}

static const char *end_label(const struct screen_slot *slot)
{
	const char *t = slot->msg.msg_type;
	if (slot->kind == SLOT_TIMED_OUT)
		return "已到期 expired";
	if (!strcmp(t, "cancel"))
		return "已取消 cancelled";
	if (!strcmp(t, "expired"))
		return "已解除 expired";
	return "解除 all clear";
}

static void drill_banner(struct buf *b)
{
	const char *t = "【演练 DRILL】此为演练，不是真实预警 This is an exercise";
	if (colour)
		buf_appendf(b, "\033[1;30;47m %s \033[K" RESET "\n", t);
	else
		buf_appendf(b, "!! %s !!\n", t);
}

/* The whole of one slot: what block mode prints and what the full screen
 * shows first. */
static void slot_full(struct buf *b, const struct screen_slot *slot)
{
	const struct screen_msg *m = &slot->msg;
	char *title = malloc(TEXT_MAX), *text = malloc(TEXT_MAX);
	char line[1024], t1[64], t2[64];
	if (!title || !text)
		goto done;
	shown_title(m, title, TEXT_MAX);
	if (slot->kind == SLOT_ALERT) {
		char hz[128], cn[64], lv[16];
		display_clean(m->hazard_name, hz, sizeof hz);
		display_clean(m->colour_name, cn, sizeof cn);
		display_clean(m->level, lv, sizeof lv);
		snprintf(line, sizeof line, "%s%s%s%s  %s", cn[0] ? cn : m->severity,
			 "预警", lv[0] ? " " : "", lv, hz);
		band(b, slot_style(slot), line);
		band(b, slot_style(slot), title);
	} else if (slot->kind == SLOT_NOTICE) {
		char hz[128];
		display_clean(m->hazard_name, hz, sizeof hz);
		snprintf(line, sizeof line, "科普 science%s%s", hz[0] ? "  " : "", hz);
		band(b, slot_style(slot), line);
		band(b, slot_style(slot), title);
	} else {
		snprintf(line, sizeof line, "[%s] %s", end_label(slot), title);
		buf_appendf(b, "%s%s%s\n", colour ? "\033[1m" : "", line,
			    colour ? RESET : "");
	}
	if (m->exercise)
		drill_banner(b);
	if (slot->kind != SLOT_TIMED_OUT) {
		display_clean(m->body, text, TEXT_MAX);
		buf_appendf(b, "%s\n", text);
	}
	/* a notice's own text is its first notice: said once is enough */
	if (slot->kind == SLOT_ALERT && (m->notice_title[0] || m->notice_summary[0])) {
		char nt[512];
		display_clean(m->notice_title, nt, sizeof nt);
		display_clean(m->notice_summary, text, TEXT_MAX);
		buf_appendf(b, "科普 %s：%s\n", nt, text);
	}
	short_time(m->issued, t1, sizeof t1);
	short_time(m->expires, t2, sizeof t2);
	if (slot->kind == SLOT_ALERT || slot->kind == SLOT_NOTICE)
		buf_appendf(b, "发布 %s · 有效至 %s · %s\n", t1, t2, m->message_id);
	else
		buf_appendf(b, "%s · %s\n", t1, m->message_id);
done:
	free(title);
	free(text);
}

static void now_label(char *out, size_t cap)
{
	time_t t = time(NULL);
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, cap, "?");
}

static void flush_buf(struct buf *b)
{
	if (b->len) {
		fwrite(b->data, 1, b->len, stdout);
		fflush(stdout);
	}
	buf_free(b);
}

void display_slot(const struct screen *s, const struct screen_slot *slot)
{
	struct buf b = BUF_INIT;
	char label[64];
	if (fullscreen)
		return;
	now_label(label, sizeof label);
	rule(&b, label);
	slot_full(&b, slot);
	flush_buf(&b);
	(void)s;
	was_empty = false;
}

static void redraw(const struct screen *s)
{
	struct buf b = BUF_INIT;
	char label[160], clock[64], title[512];
	const struct screen_slot *top = alerts_top(s);
	now_label(clock, sizeof clock);
	buf_append_str(&b, "\033[H\033[2J");
	snprintf(label, sizeof label, "%s · %s/%s · %s · %s", SCREEN_NAME,
		 s->opts->region, s->opts->screen_id, clock,
		 s->connected ? "● 在线 online" : "○ 离线 offline");
	rule(&b, label);
	if (!top) {
		buf_append_str(&b, "\n   当前无预警   No alert in force\n");
	} else {
		buf_append_char(&b, '\n');
		slot_full(&b, top);
	}
	bool more = false;
	for (size_t i = 0; i < s->nslots; i++) {
		const struct screen_slot *c = &s->slots[i];
		if (c == top || c->kind == SLOT_NOTICE)
			continue;
		if (!more) {
			buf_append_char(&b, '\n');
			rule(&b, "其他 others");
			more = true;
		}
		shown_title(&c->msg, title, sizeof title);
		if (c->kind == SLOT_ALERT) {
			if (colour)
				buf_appendf(&b, "%s  " RESET " %s\n",
					    sev_style(c->msg.severity), title);
			else
				buf_appendf(&b, "[%s] %s\n", c->msg.severity, title);
		} else {
			buf_appendf(&b, "[%s] %s\n", end_label(c), title);
		}
	}
	flush_buf(&b);
}

void display_refresh(const struct screen *s)
{
	if (fullscreen) {
		redraw(s);
		return;
	}
	if (s->nslots == 0 && !was_empty) {
		char label[64];
		struct buf b = BUF_INIT;
		now_label(label, sizeof label);
		rule(&b, label);
		buf_append_str(&b, "当前无预警 No alert in force\n");
		flush_buf(&b);
	}
	was_empty = s->nslots == 0;
}
