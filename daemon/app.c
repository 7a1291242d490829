/* app: the little the daemon's parts share at run time. */
#include "app.h"

#include "mqtt.h"
#include "webhook.h"

void app_wake_senders(struct app *app)
{
	mqtt_sender_wake(app->mqtt);
	webhook_sender_wake(app->webhook);
}
