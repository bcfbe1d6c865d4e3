"""Imports in the admin: upload a file (a worker runs it), watch its progress, read what was
rejected. Only administrators import."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.roles import Role, role_of
from imports.forms import ImportUploadForm
from imports.models import ImportJob, ImportRejection, RejectionReason
from imports.services import import_job_create, import_job_run
from imports.tasks import WAITING_MINUTES

# A job still queued after this long was not taken by a worker: the page offers to run it.
STALE_MINUTES = WAITING_MINUTES
# "Run now" runs the import in the web request: only for files that import in seconds.
RUN_NOW_MAX_BYTES = 10 * 2**20
REJECTIONS_SHOWN = 50


def _is_admin(request) -> bool:
    return role_of(request.user) == Role.ADMIN


class ImportRejectionInline(admin.TabularInline):
    model = ImportRejection
    fields = ("row_number", "event_id", "reason", "value")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = _("rejected rows (the first %(n)d; all in the list of rejected rows)") % {
        "n": REJECTIONS_SHOWN
    }

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # An inline cannot page: it shows the first rows, the changelist has them all.
        first = queryset.order_by("job_id", "row_number").values("pk")[:REJECTIONS_SHOWN]
        return queryset.filter(pk__in=first)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    change_form_template = "admin/imports/importjob/change_form.html"
    list_display = (
        "created_at",
        "file_name",
        "status",
        "progress_bar",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "created_by",
    )
    list_filter = ("status", "source")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    actions = ["run_now"]
    inlines = [ImportRejectionInline]
    readonly_fields = (
        "file_name",
        "source",
        "status",
        "progress_bar",
        "phase",
        "review_status",
        "total",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "rejections_by_reason",
        "error",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "attempts",
        "file",
    )

    # Only administrators (the admin role, or superusers) import.
    def has_module_permission(self, request):
        return _is_admin(request)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request)

    def has_add_permission(self, request):
        return _is_admin(request)

    def has_change_permission(self, request, obj=None):
        # A job's page is read-only: it shows the import as it runs and what it did.
        return _is_admin(request) and obj is None

    def has_delete_permission(self, request, obj=None):
        return _is_admin(request) and (obj is None or obj.status != ImportJob.Status.RUNNING)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ImportUploadForm
            kwargs["fields"] = ("file", "review_status")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("file", "review_status")
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        job = import_job_create(
            file=form.cleaned_data["file"],
            user=request.user,
            review_status=form.cleaned_data["review_status"],
            file_name=form.cleaned_data["file"].name,
        )
        # The admin goes on with `obj` (the message, the redirect to the job's page).
        obj.pk, obj.file_name, obj.status = job.pk, job.file_name, job.status
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        if change:
            return  # everything on a job's page is read-only
        super().save_related(request, form, formsets, change)

    @admin.display(description=_("progress"))
    def progress_bar(self, obj):
        return format_html(
            '<progress value="{}" max="100" title="{}%">{}%</progress> {}%',
            obj.progress,
            obj.progress,
            obj.progress,
            obj.progress,
        )

    @admin.display(description=_("rejected rows by reason"))
    def rejections_by_reason(self, obj):
        if not obj.rejected_by_reason:
            return "—"
        url = reverse("admin:imports_importrejection_changelist") + f"?job__id__exact={obj.pk}"
        rows = format_html_join(
            "",
            "<li>{}: {} ({})</li>",
            (
                (count, RejectionReason(reason).label, reason)
                for reason, count in sorted(obj.rejected_by_reason.items(), key=lambda kv: -kv[1])
            ),
        )
        return format_html(
            '<ul>{}</ul><a href="{}">{}</a>', rows, url, _("All listed rejected rows")
        )

    def get_urls(self):
        return [
            path(
                "<int:job_id>/run-now/",
                self.admin_site.admin_view(self.run_now_view),
                name="imports_importjob_run_now",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if job is not None:
            context["refresh"] = not job.is_finished
            context["stale"] = (
                ImportJob.objects.waiting_longer_than(STALE_MINUTES).filter(pk=job.pk).exists()
            )
            context["stale_minutes"] = STALE_MINUTES
            context["run_now_url"] = reverse("admin:imports_importjob_run_now", args=[job.pk])
        return super().change_view(request, object_id, form_url, extra_context=context)

    def run_now_view(self, request, job_id: int):
        job = get_object_or_404(ImportJob, pk=job_id)
        if request.method != "POST" or not _is_admin(request):
            return HttpResponseRedirect(reverse("admin:imports_importjob_change", args=[job.pk]))
        self._run_now(request, [job])
        return HttpResponseRedirect(reverse("admin:imports_importjob_change", args=[job.pk]))

    @admin.action(description=_("Run the selected queued imports now (small files)"))
    def run_now(self, request, queryset):
        self._run_now(request, list(queryset))

    def _run_now(self, request, jobs):
        ran = 0
        for job in jobs:
            if job.status != ImportJob.Status.QUEUED:
                continue
            if job.file and job.file.size > RUN_NOW_MAX_BYTES:
                self.message_user(
                    request,
                    _(
                        "%(name)s is too large to import in the browser; run "
                        "“manage.py run_import_jobs” on the server, or start the worker."
                    )
                    % {"name": job.file_name},
                    messages.WARNING,
                )
                continue
            if import_job_run(job_id=job.pk) is not None:
                ran += 1
        self.message_user(
            request,
            ngettext("%(n)d import run.", "%(n)d imports run.", ran) % {"n": ran},
            messages.SUCCESS if ran else messages.INFO,
        )


@admin.register(ImportRejection)
class ImportRejectionAdmin(admin.ModelAdmin):
    list_display = ("row_number", "event_id", "reason", "value", "job")
    list_filter = ("reason", "job")
    search_fields = ("=event_id",)
    list_select_related = ("job",)

    def has_module_permission(self, request):
        return _is_admin(request)

    def has_view_permission(self, request, obj=None):
        return _is_admin(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
