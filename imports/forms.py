"""The upload form of the admin: a CSV with ACLED's header, within the size limit."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from imports.acled import ImportFileError, header_parse
from imports.models import IMPORT_REVIEW_STATUSES, ImportJob

# A full ACLED download for Syria (about 110,000 events since 2017) is some 60 MB.
MAX_UPLOAD_BYTES = int(getattr(settings, "ACLED_IMPORT_MAX_UPLOAD_BYTES", 256 * 2**20))
CSV_EXTENSIONS = (".csv", ".txt")


class ImportUploadForm(forms.ModelForm):
    file = forms.FileField(
        label=_("ACLED CSV file"),
        help_text=_(
            "UTF-8 CSV with ACLED's column names in the first line (any order; other columns "
            "are ignored), at most %(mb)d MB. Events already imported are matched on "
            "event_id_cnty and updated, never duplicated."
        )
        % {"mb": MAX_UPLOAD_BYTES // 2**20},
    )
    review_status = forms.ChoiceField(
        label=_("Review status of new incidents"),
        choices=[(status.value, status.label) for status in IMPORT_REVIEW_STATUSES],
        initial=IMPORT_REVIEW_STATUSES[0].value,
    )

    class Meta:
        model = ImportJob
        fields = ("file", "review_status")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(CSV_EXTENSIONS):
            raise forms.ValidationError(
                _("Upload a .csv file (an Excel workbook must be saved as “CSV UTF-8” first).")
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // 2**20}
            )
        upload.seek(0)
        first_line = upload.readline(64 * 1024)
        upload.seek(0)
        try:
            header_parse(first_line)
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload
