"""Report form and "my reports" (being built)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def report_form(request):
    return render(request, "monitoring/home.html", {"counts": {}})


@login_required
def my_reports(request):
    return render(request, "monitoring/home.html", {"counts": {}})
