from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin, LeafletGeoAdminMixin

from patrols.models import ObservationPost, Patrol, PatrolEvent, Route


@admin.register(Route)
class RouteAdmin(LeafletGeoAdmin):
    list_display = ("slug", "name_en", "name_ar", "kind", "geometry_quality")
    list_filter = ("kind",)
    search_fields = ("slug", "name_en", "name_ar")


class PatrolEventInline(LeafletGeoAdminMixin, admin.StackedInline):
    model = PatrolEvent
    extra = 0


@admin.register(Patrol)
class PatrolAdmin(LeafletGeoAdmin):
    list_display = (
        "date",
        "forces",
        "status",
        "route",
        "actual_start",
        "actual_end",
        "is_synthetic",
    )
    list_filter = ("status", "forces", "is_synthetic", "route")
    date_hierarchy = "date"
    search_fields = ("notes",)
    list_select_related = ("route",)
    inlines = [PatrolEventInline]


@admin.register(PatrolEvent)
class PatrolEventAdmin(LeafletGeoAdmin):
    list_display = ("occurred_at", "kind", "patrol")
    list_filter = ("kind",)
    date_hierarchy = "occurred_at"
    search_fields = ("description",)
    list_select_related = ("patrol",)
    raw_id_fields = ("patrol",)


@admin.register(ObservationPost)
class ObservationPostAdmin(LeafletGeoAdmin):
    list_display = (
        "number",
        "name_en",
        "name_ar",
        "operator",
        "active_from",
        "active_to",
        "has_location",
    )
    list_filter = ("operator",)
    search_fields = ("name_en", "name_ar", "alt_names")

    @admin.display(boolean=True, description="located")
    def has_location(self, obj):
        return obj.location is not None
