from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from zones.models import Locality, Zone
from zones.services import zones_changed_notify


@admin.register(Zone)
class ZoneAdmin(LeafletGeoAdmin):
    list_display = ("pcode", "name_en", "name_ar", "kind", "parent", "updated_at")
    list_filter = ("kind",)
    search_fields = ("pcode", "name_en", "name_ar")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "geom" in form.changed_data or not change:
            zones_changed_notify()


@admin.register(Locality)
class LocalityAdmin(LeafletGeoAdmin):
    list_display = ("name_en", "name_ar", "adm3_pcode", "adm1_pcode", "geonames_id")
    list_filter = ("adm1_pcode",)
    search_fields = ("name_en", "name_ar", "search_name", "adm3_pcode", "=wof_id", "=geonames_id")
    readonly_fields = ("search_name",)
