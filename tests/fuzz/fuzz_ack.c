/* libFuzzer target: outbox_parse_ack, the MQTT ack a village screen
 * publishes on {ack_prefix}/{region}.
 *
 * Input: the rest of the topic (the region) up to the first newline, then
 * the payload. The region arrives as a C string (libmosquitto terminates
 * topics); the payload is handed over with its length only, exactly as
 * the broker delivered it, so a read past its end is an ASan report. */
#include "fuzz.h"

#include "outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rlen = nl ? (size_t)(nl - data) : size;
	char *region = fuzz_strndup(data, rlen);
	const uint8_t *payload = nl ? nl + 1 : data + size;
	size_t plen = size - (size_t)(payload - data);

	struct outbox_ack ack;
	char why[200];
	memset(&ack, 0xA5, sizeof ack);
	why[0] = '\0';
	if (outbox_parse_ack(region, payload, plen, &ack, why, sizeof why) == 0) {
		/* what the sender then stores: terminated strings, the
		 * region as given, a known status */
		if (!memchr(ack.message_id, 0, sizeof ack.message_id) ||
		    !memchr(ack.status, 0, sizeof ack.status) ||
		    strcmp(ack.region, region) != 0 || ack.at != 0 ||
		    !ack.message_id[0])
			abort();
		if (strcmp(ack.status, "received") != 0 &&
		    strcmp(ack.status, "displayed") != 0 &&
		    strcmp(ack.status, "played") != 0)
			abort();
	} else if (!why[0] || !memchr(why, 0, sizeof why)) {
		abort(); /* a refusal always says why */
	}
	free(region);
	return 0;
}
