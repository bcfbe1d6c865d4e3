from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from sealing.models import QuarantinedSubmission
from sealing.quarantine import quarantined_submission_retry


@admin.register(QuarantinedSubmission)
class QuarantinedSubmissionAdmin(admin.ModelAdmin):
    """Read-only, for superusers (administrators); "Try again" once the key files are back."""

    list_display = (
        "received_at",
        "kind",
        "client_uuid",
        "user",
        "key_id",
        "reason",
        "retry_status",
        "resolved_at",
    )
    list_filter = ("kind", "reason", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("=client_uuid", "=key_id", "user__username")
    list_select_related = ("user",)
    date_hierarchy = "received_at"
    fields = (
        "kind",
        "client_uuid",
        "user",
        "path",
        "key_id",
        "reason",
        "received_at",
        "envelope",
        "ciphertext_bytes",
        "digest",
        "retried_at",
        "retry_status",
        "retry_result",
        "resolved_at",
    )
    readonly_fields = fields
    actions = ["try_again"]

    @admin.display(description=_("photo ciphertext (bytes)"))
    def ciphertext_bytes(self, obj) -> int:
        return len(obj.ciphertext or b"")

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

    @admin.action(description=_("Try again (after restoring the key files)"))
    def try_again(self, request, queryset):
        stored = failed = 0
        for item in queryset.select_related("user"):
            if quarantined_submission_retry(item=item).stored:
                stored += 1
            else:
                failed += 1
        if stored:
            self.message_user(
                request,
                ngettext("%(n)d submission stored.", "%(n)d submissions stored.", stored)
                % {"n": stored},
                messages.SUCCESS,
            )
        if failed:
            self.message_user(
                request,
                ngettext(
                    "%(n)d submission could not be stored yet; see its last try's result.",
                    "%(n)d submissions could not be stored yet; see their last try's result.",
                    failed,
                )
                % {"n": failed},
                messages.WARNING,
            )
