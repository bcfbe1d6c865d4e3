"""Review queue (being built)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def review_queue(request):
    return render(request, "monitoring/home.html", {"counts": {}})
