from django.contrib import admin

from briefs.models import DailyBrief


@admin.register(DailyBrief)
class DailyBriefAdmin(admin.ModelAdmin):
    list_display = ("day", "generated_at")
    date_hierarchy = "day"
    readonly_fields = ("day", "generated_at", "data")
