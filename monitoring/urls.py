from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularSwaggerSplitView,
)

from accounts import views as account_views
from accounts.forms import AdminSignInForm
from incidents.api.tiles import IncidentTileView
from monitoring import basemap_views, pages, views

admin.site.site_header = "Ceasefire Monitor: NW Syria"
admin.site.site_title = "Ceasefire Monitor"
# The admin's sign-in asks for the authenticator code too (when the user switched it on).
admin.site.login_form = AdminSignInForm
admin.site.login_template = "registration/admin_login.html"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", account_views.SignInView.as_view(), name="login"),
    path("accounts/two-factor/", account_views.two_factor, name="two-factor"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("fieldapp.urls")),
    path("", include("incidents.urls")),
    path("", include("zones.urls")),
    path("zones/<str:pcode>/", pages.zone_page, name="zone-page"),
    path("camps/<str:site_id>/", pages.camp_page, name="camp-page"),
    path("", include("camps.urls")),
    path("", include("patrols.urls")),
    path("", include("alerts.urls")),
    path("", include("briefs.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("monitoring.api")),
    path(
        "tiles/incidents/<int:z>/<int:x>/<int:y>.pbf",
        IncidentTileView.as_view(),
        name="incident-tile",
    ),
    # The reference basemap: public, the same for every caller (monitoring/basemap_views.py).
    path("basemap/<int:z>/<int:x>/<int:y>.mvt", basemap_views.basemap_tile, name="basemap-tile"),
    path("basemap/precache.json", basemap_views.basemap_precache, name="basemap-precache"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI injects its own <style> elements: this one page may apply inline styles (never
    # scripts: its code is served as a file by the split view).
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
]
# No URL serves the media folder, in development either: photos go through
# incidents.photo_views, which checks who asks.
