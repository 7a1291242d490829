/* err: an error that travels up to where it is reported.
 * status is the HTTP status it maps to (0 = not an HTTP matter), code a
 * short machine-readable word, field the request field at fault (may be
 * empty), message a sentence for a human. */
#ifndef SCICAST_ERR_H
#define SCICAST_ERR_H

struct err {
	int status;
	char code[32];
	char field[96];
	char message[512];
};

void err_set(struct err *e, int status, const char *code, const char *field,
	     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Prefixes the message ("line 3: " + message). */
void err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

/* Shorthands for the common statuses. */
#define err_invalid(e, field, ...) err_set((e), 422, "invalid", (field), __VA_ARGS__)
#define err_bad_request(e, ...) err_set((e), 400, "bad_request", "", __VA_ARGS__)
#define err_not_found(e, ...) err_set((e), 404, "not_found", "", __VA_ARGS__)
#define err_conflict(e, ...) err_set((e), 409, "conflict", "", __VA_ARGS__)
#define err_internal(e, ...) err_set((e), 500, "internal", "", __VA_ARGS__)
#define err_oom(e) err_set((e), 500, "internal", "", "out of memory")

#endif
