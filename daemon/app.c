/* app: the little the daemon's parts share at run time. */
#include "app.h"

#include "mqtt.h"
#include "respcache.h"
#include "webhook.h"

void app_wake_senders(struct app *app)
{
	/* called after every commit of the API and the scheduler */
	respcache_invalidate();
	mqtt_sender_wake(app->mqtt);
	webhook_sender_wake(app->webhook);
}

void app_wake_senders_cb(void *app)
{
	app_wake_senders(app);
}
