from django.contrib import admin
from django.core.exceptions import ValidationError
from leaflet.admin import LeafletGeoAdmin

from incidents.history import incident_change_record, incident_snapshot
from incidents.models import Attachment, EventType, Incident, IncidentChange, SubEventType
from incidents.services import incident_delete, incident_validate, incident_zones_assign


class SubEventTypeInline(admin.TabularInline):
    model = SubEventType
    extra = 0


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "disorder_type", "slug", "position")
    search_fields = ("name", "slug")
    inlines = [SubEventTypeInline]


@admin.register(SubEventType)
class SubEventTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "event_type", "disorder_type", "slug")
    list_filter = ("event_type",)
    search_fields = ("name", "slug")
    list_select_related = ("event_type",)


class AttachmentInline(admin.TabularInline):
    # Photos arrive only through the submission service, which strips their metadata first.
    model = Attachment
    extra = 0
    can_delete = True
    readonly_fields = ("file", "content_type", "width", "height", "size_bytes", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


class IncidentChangeInline(admin.TabularInline):
    """The incident's history, read-only: rows are appended by the services and save_model."""

    model = IncidentChange
    extra = 0
    can_delete = False
    fields = ("at", "user", "action", "fields")
    readonly_fields = fields
    ordering = ("-at", "-id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IncidentChange)
class IncidentChangeAdmin(admin.ModelAdmin):
    list_display = ("at", "incident", "action", "user")
    list_filter = ("action",)
    list_select_related = ("incident__sub_event_type", "user")
    raw_id_fields = ("incident", "user")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(LeafletGeoAdmin):
    list_display = (
        "occurred_at",
        "sub_event_type",
        "place_name",
        "subdistrict",
        "in_corridor",
        "killed_total",
        "review_status",
        "is_synthetic",
    )
    list_filter = (
        "review_status",
        "event_type",
        "sub_event_type",
        "in_corridor",
        "governorate",
        "is_synthetic",
        "time_precision",
    )
    date_hierarchy = "occurred_at"
    search_fields = (
        "place_name",
        "description",
        "=client_uuid",
        "=external_id",
        "subdistrict__pcode",
    )
    list_select_related = ("sub_event_type", "subdistrict")
    raw_id_fields = ("duplicate_of", "reporter", "reviewed_by", "locality")
    readonly_fields = (
        "client_uuid",
        "governorate",
        "district",
        "subdistrict",
        "in_corridor",
        "distance_to_m4_m",
        "coarse_governorate",
        "coarse_district",
        "coarse_subdistrict",
        "coarse_in_corridor",
        "coarse_locality",
        "created_at",
        "updated_at",
        "submission_digest",
    )
    inlines = [AttachmentInline, IncidentChangeInline]

    @admin.display(description="killed", ordering="killed_civilians")
    def killed_total(self, obj):
        return obj.killed

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class ValidatingForm(form):
            def _post_clean(self):
                super()._post_clean()
                try:
                    incident_validate(self.instance)
                except ValidationError as exc:
                    self._update_errors(exc)

        return ValidatingForm

    def save_model(self, request, obj, form, change):
        # The form has already changed `obj`; the history compares with the row as stored.
        before = None
        if change:
            stored = Incident.all_objects.select_related(
                "event_type", "sub_event_type", "duplicate_of", "reporter"
            ).get(pk=obj.pk)
            before = incident_snapshot(stored)
        super().save_model(request, obj, form, change)
        incident_zones_assign(ids=[obj.pk])
        incident_change_record(
            incident=obj,
            user=request.user,
            action=IncidentChange.Action.ADMIN_EDITED if change else IncidentChange.Action.CREATED,
            before=before,
            after=incident_snapshot(obj),
        )

    def delete_model(self, request, obj):
        # Nothing submitted is lost: the row stays, hidden, and sync feeds report a tombstone.
        incident_delete(incident=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for incident in queryset:
            incident_delete(incident=incident, user=request.user)
