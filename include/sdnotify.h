/* sdnotify: tells systemd (Type=notify) that the daemon is ready or
 * stopping, by a datagram to $NOTIFY_SOCKET; does nothing elsewhere. */
#ifndef SCICAST_SDNOTIFY_H
#define SCICAST_SDNOTIFY_H

void sdnotify(const char *state);

#endif
