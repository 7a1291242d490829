/* speak: the loudspeaker. --tts-command is run by /bin/sh -c in a child
 * process with the message's tts text on its standard input — never on
 * its command line, so no text can inject shell syntax. The child gets an
 * in-memory file (memfd) as stdin, so writing a long text never blocks
 * the main loop the way a full pipe would; the main loop reaps it with
 * waitpid(WNOHANG). One text plays at a time, the others wait in order; a
 * newer message of the same source — an emergency, or a campaign —
 * replaces what is queued or playing for it (people should hear the
 * update, not the rest of the old alert).
 * The child runs in its own process group, so stopping it stops what the
 * shell started too. */
#define _GNU_SOURCE
#include "screen.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SPEAK_QUEUE_MAX 8
#define SPEAK_TIMEOUT_MS (10 * 60 * 1000)

extern char **environ;

struct speak_item {
	long long source;            /* screen_source: emergency or campaign */
	char message_id[SCREEN_ID_MAX];
	char *text;
};

struct speaker {
	char *argv[4];               /* sh -c COMMAND: built before any fork */
	struct speak_item queue[SPEAK_QUEUE_MAX];
	size_t nqueue;
	struct speak_item current;   /* playing while pid > 0 */
	pid_t pid;
	bool stopped;                /* stopped by us: no "played" */
	int64_t started_ms;
};

int speak_new(const char *command, struct speaker **out)
{
	struct speaker *sp = calloc(1, sizeof *sp);
	if (!sp)
		return -1;
	sp->argv[0] = "sh";
	sp->argv[1] = "-c";
	sp->argv[2] = (char *)command;
	*out = sp;
	return 0;
}

static void item_free(struct speak_item *it)
{
	free(it->text);
	memset(it, 0, sizeof *it);
}

static void stop_current(struct speaker *sp)
{
	if (sp->pid > 0 && !sp->stopped) {
		kill(-sp->pid, SIGTERM);
		sp->stopped = true;
	}
}

void speak_drop(struct speaker *sp, long long source)
{
	size_t k = 0;
	for (size_t i = 0; i < sp->nqueue; i++) {
		if (sp->queue[i].source == source)
			item_free(&sp->queue[i]);
		else
			sp->queue[k++] = sp->queue[i];
	}
	sp->nqueue = k;
	if (sp->pid > 0 && sp->current.source == source)
		stop_current(sp);
}

void speak_say(struct speaker *sp, long long source, const char *message_id,
	       const char *text)
{
	speak_drop(sp, source);
	if (sp->nqueue == SPEAK_QUEUE_MAX) {
		log_warn("speak: %d texts waiting; %s is not read", SPEAK_QUEUE_MAX,
			 sp->queue[0].message_id);
		item_free(&sp->queue[0]);
		memmove(&sp->queue[0], &sp->queue[1],
			(SPEAK_QUEUE_MAX - 1) * sizeof sp->queue[0]);
		sp->nqueue--;
	}
	struct speak_item *it = &sp->queue[sp->nqueue];
	it->text = strdup(text);
	if (!it->text) {
		log_error("speak: out of memory");
		return;
	}
	it->source = source;
	snprintf(it->message_id, sizeof it->message_id, "%s", message_id);
	sp->nqueue++;
}

/* The text in an anonymous in-memory file, positioned at its start. */
static int text_fd(const char *text)
{
	int fd = memfd_create("scicast-tts", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void start_next(struct speaker *sp)
{
	int in = -1, out = -1;
	sp->current = sp->queue[0];
	memmove(&sp->queue[0], &sp->queue[1], (sp->nqueue - 1) * sizeof sp->queue[0]);
	sp->nqueue--;
	memset(&sp->queue[sp->nqueue], 0, sizeof sp->queue[0]);
	in = text_fd(sp->current.text);
	out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (in < 0 || out < 0) {
		log_error("speak: preparing the text of %s: %s",
			  sp->current.message_id, strerror(errno));
		goto fail;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_error("speak: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		/* the child of a threaded process: async-signal-safe calls
		 * only, until exec */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigset_t none;
		setpgid(0, 0);
		sigaction(SIGPIPE, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGCHLD, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
			_exit(126);
		execve("/bin/sh", sp->argv, environ);
		_exit(127);
	}
	setpgid(pid, pid);   /* also here: whoever runs first */
	close(in);
	close(out);
	sp->pid = pid;
	sp->stopped = false;
	sp->started_ms = util_now_ms();
	return;
fail:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	item_free(&sp->current);
}

int speak_poll(struct speaker *sp, char *done_id, size_t cap)
{
	int played = 0;
	if (sp->pid > 0) {
		int status;
		pid_t r = waitpid(sp->pid, &status, WNOHANG);
		if (r == 0) {
			if (util_now_ms() - sp->started_ms > SPEAK_TIMEOUT_MS) {
				log_warn("speak: %s still playing after %d s; "
					 "stopping it", sp->current.message_id,
					 SPEAK_TIMEOUT_MS / 1000);
				kill(-sp->pid, SIGKILL);
				sp->stopped = true;
			}
			return 0;
		}
		if (r < 0 && errno == EINTR)
			return 0;
		if (r == sp->pid && !sp->stopped && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0) {
			snprintf(done_id, cap, "%s", sp->current.message_id);
			played = 1;
		} else if (r == sp->pid && !sp->stopped) {
			log_warn("speak: the tts command %s for %s",
				 WIFEXITED(status) ? "failed" : "was killed",
				 sp->current.message_id);
		}
		sp->pid = 0;
		item_free(&sp->current);
	}
	if (sp->nqueue)
		start_next(sp);
	return played;
}

void speak_free(struct speaker *sp)
{
	if (!sp)
		return;
	if (sp->pid > 0) {
		/* a second to stop, then no choice */
		bool reaped = false;
		kill(-sp->pid, SIGTERM);
		for (int i = 0; i < 20 && !reaped; i++) {
			reaped = waitpid(sp->pid, NULL, WNOHANG) != 0;
			if (!reaped)
				usleep(50000);
		}
		kill(-sp->pid, SIGKILL);   /* what the shell left behind */
		if (!reaped)
			waitpid(sp->pid, NULL, 0);
	}
	item_free(&sp->current);
	for (size_t i = 0; i < sp->nqueue; i++)
		item_free(&sp->queue[i]);
	free(sp);
}
