from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from camps.models import Camp, CampPopulation


class CampPopulationInline(admin.TabularInline):
    model = CampPopulation
    extra = 0


@admin.register(Camp)
class CampAdmin(LeafletGeoAdmin):
    list_display = (
        "name_en",
        "name_ar",
        "site_id",
        "camp_type",
        "adm3_pcode",
        "status",
        "latest_individuals",
        "has_location",
    )
    list_filter = ("camp_type", "status", "adm1_pcode")
    search_fields = ("name_en", "name_ar", "site_id", "adm3_pcode", "managing_agency")
    inlines = [CampPopulationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_latest_population()

    @admin.display(description="individuals (latest)", ordering="population_individuals")
    def latest_individuals(self, obj):
        return obj.population_individuals

    @admin.display(boolean=True, description="located")
    def has_location(self, obj):
        return obj.location is not None


@admin.register(CampPopulation)
class CampPopulationAdmin(admin.ModelAdmin):
    list_display = ("camp", "date", "individuals", "households", "is_synthetic")
    list_filter = ("is_synthetic",)
    date_hierarchy = "date"
    search_fields = ("camp__name_en", "camp__name_ar")
    list_select_related = ("camp",)
    autocomplete_fields = ("camp",)
