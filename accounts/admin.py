from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from accounts.models import AuditEvent, PartnerApiKey


@admin.register(PartnerApiKey)
class PartnerApiKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "user", "last_used_at")
    list_select_related = ("user",)
    search_fields = (*APIKeyModelAdmin.search_fields, "user__username")
    raw_id_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "last_used_at")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only, and only for superusers (administrators)."""

    list_display = ("at", "action", "user", "api_key_prefix", "object_type", "path")
    list_filter = ("action",)
    date_hierarchy = "at"
    search_fields = ("user__username", "api_key_prefix", "path")
    list_select_related = ("user",)

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
