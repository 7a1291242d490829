/* app: the little the daemon's parts share at run time. */
#include "app.h"

#include "mqtt.h"
#include "respcache.h"
#include "webhook.h"

void app_wake_senders(struct app *app)
{
	/* called after every commit of the API and the scheduler */
	respcache_invalidate();
	app_wake_senders_cb(app);
}

void app_wake_senders_cb(void *arg)
{
	/* a plan's stage, every 25 ms: the answers cached for 250 ms stay
	 * (an emergency's counts move as its deliveries go out, too); with
	 * the cache dropped each stage, a console watching a province
	 * recounted it per request during every big plan (bench/api) */
	struct app *app = arg;
	mqtt_sender_wake(app->mqtt);
	webhook_sender_wake(app->webhook);
}
