"""Forms of the review pages: a review decision and a classification edit.

They check what a person typed and name the field at fault; the services (incident_review,
incident_update) hold the rules and check them again.
"""

from __future__ import annotations

import uuid

from django import forms
from django.forms.models import fields_for_model, model_to_dict
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, ReviewStatus, SubEventType
from incidents.services import (
    CLASSIFICATION_FIELDS,
    PUBLIC_SUMMARY_MAX_LENGTH,
    PUBLIC_SUMMARY_NEEDS_VERIFY,
)

# The decisions a reviewer takes from the queue (back to "submitted" is not one of them).
DECISIONS = (
    (ReviewStatus.VERIFIED, _("Verify")),
    (ReviewStatus.REJECTED, _("Reject")),
    (ReviewStatus.DUPLICATE, _("Mark as duplicate")),
    (ReviewStatus.UNDER_REVIEW, _("Mark as under review")),
)

# The form edits the sub-event type; its event type follows (incident_update).
CLASSIFICATION_FORM_FIELDS = tuple(name for name in CLASSIFICATION_FIELDS if name != "event_type")


class ReviewDecisionForm(forms.Form):
    status = forms.ChoiceField(label=_("Decision"), choices=DECISIONS)
    note = forms.CharField(
        label=_("Reason or note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when rejecting a report."),
    )
    duplicate_of = forms.CharField(
        label=_("Duplicate of (report id)"),
        required=False,
        max_length=64,
        help_text=_("Required when marking a duplicate."),
    )
    public_summary = forms.CharField(
        label=_("Shareable summary for partners"),
        required=False,
        max_length=PUBLIC_SUMMARY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Partners read this instead of the description once you verify the report; empty, "
            "they read no description. Name no person, source, street or building."
        ),
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident = incident
        self.fields["public_summary"].initial = incident.public_summary
        # Ids are unique per incident on the page, so several forms can share one page.
        self.auto_id = f"id_{incident.client_uuid.hex[:12]}_%s"

    def clean_note(self) -> str:
        return self.cleaned_data["note"].strip()

    def clean_public_summary(self) -> str | None:
        """The summary to approve; None when the form did not carry the field (left as it is)."""
        if "public_summary" not in self.data:
            return None
        return self.cleaned_data["public_summary"].strip()

    def clean_duplicate_of(self) -> Incident | None:
        raw = self.cleaned_data["duplicate_of"].strip()
        if not raw:
            return None
        try:
            key = uuid.UUID(raw)
        except ValueError:
            raise forms.ValidationError(
                _("Enter the id of a report (a UUID such as %(example)s).")
                % {"example": "7f1c9e2a-3b4d-4c5e-8f60-1a2b3c4d5e6f"}
            ) from None
        if key == self.incident.client_uuid:
            raise forms.ValidationError(_("A report cannot duplicate itself."))
        original = Incident.objects.select_related("duplicate_of").filter(client_uuid=key).first()
        if original is None:
            raise forms.ValidationError(_("No report has this id."))
        return original

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if (
            status == ReviewStatus.REJECTED
            and not cleaned.get("note")
            and "note" not in self.errors
        ):
            self.add_error("note", _("Give the reason for rejecting the report."))
        if (
            status == ReviewStatus.DUPLICATE
            and cleaned.get("duplicate_of") is None
            and "duplicate_of" not in self.errors
        ):
            self.add_error("duplicate_of", _("Name the report this one duplicates."))
        summary = cleaned.get("public_summary")
        if (
            status
            and status != ReviewStatus.VERIFIED
            and summary is not None
            and summary != self.incident.public_summary
            and "public_summary" not in self.errors
        ):
            self.add_error("public_summary", PUBLIC_SUMMARY_NEEDS_VERIFY)
        return cleaned


class ClassificationForm(forms.Form):
    """The classification of one incident, starting from its stored values."""

    def __init__(self, *args, incident: Incident, **kwargs):
        kwargs.setdefault("initial", model_to_dict(incident, fields=CLASSIFICATION_FORM_FIELDS))
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Incident, fields=CLASSIFICATION_FORM_FIELDS))
        sub_type = self.fields["sub_event_type"]
        sub_type.queryset = SubEventType.objects.select_related("event_type")
        sub_type.label_from_instance = lambda sub: f"{sub.event_type.label}: {sub.label}"
        self.auto_id = "id_class_%s"

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}
