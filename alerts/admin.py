from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alerts.models import Alert, AlertDelivery, DeliveryAttempt, WebhookEndpoint


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("at", "ok", "status_code", "error", "duration_ms")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """A webhook's URL is checked when saved (WebhookEndpoint.clean) and at every send."""

    list_display = ("name", "url", "audience", "is_active", "consecutive_failures", "disabled_at")
    list_filter = ("is_active", "audience")
    search_fields = ("name", "url")
    readonly_fields = ("consecutive_failures", "disabled_at", "disabled_reason", "created_at")
    actions = ["switch_on"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.base_fields["url"].help_text = _(
            "A public http:// or https:// address. Private, loopback, link-local, multicast and "
            "reserved addresses are refused, unless the server's settings name the host."
        )
        return form

    @admin.action(description=_("Switch on again (and retry what is pending)"))
    def switch_on(self, request, queryset):
        count = queryset.update(
            is_active=True, consecutive_failures=0, disabled_at=None, disabled_reason=""
        )
        self.message_user(
            request,
            ngettext("%(n)d webhook switched on.", "%(n)d webhooks switched on.", count)
            % {"n": count},
            messages.SUCCESS,
        )


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "occurred_at", "zone", "camp")
    list_filter = ("kind",)
    date_hierarchy = "created_at"
    raw_id_fields = ("incident", "patrol", "camp", "zone")
    readonly_fields = ("uuid", "key", "created_at")
    list_select_related = ("zone", "camp")


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = ("alert", "channel", "endpoint", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "channel", "endpoint")
    raw_id_fields = ("alert",)
    readonly_fields = ("uuid", "attempts", "delivered_at", "created_at")
    list_select_related = ("alert", "endpoint")
    inlines = [DeliveryAttemptInline]
